"""Offline tools of quality inspection: the labelled replies, their evaluation, the scorer training."""
