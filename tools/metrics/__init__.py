"""Metrics' offline tools (not in the image).

To move here once issue 13's rule changes are merged (they are being edited on another
branch): the quality-rule evaluation (`services/metrics/quality/evaluate.py`, run as
`python -m services.metrics.quality.evaluate train|heldout` until then) and its labelled
replies (`services/metrics/data/*.tsv`). The KPI replay is not offline — it runs against a
live deployment — and lives in `ops/metrics_replay.py`.
"""
