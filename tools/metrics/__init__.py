"""Metrics' offline tools (not in the image): the quality rules' labelled replies, their
evaluation and the scorers' training (`tools/metrics/quality/`). The KPI replay is not offline —
it runs against a live deployment — and lives in `ops/metrics_replay.py`.
"""
