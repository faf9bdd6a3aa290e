"""Metrics' storage, one module per table family.

- `tables` — the schema (`metadata`, for migrations and the runtime): facts, derived tables,
  snapshots;
- `facts` — facts inserted (deduplicated on their identity) and loaded as domain types;
- `derived` — the derived tables of conversations, orders and refunds, replaced in bulk;
- `kpis`, `quality`, `recovery`, `insights`, `refund_reasons` — what the API adds up;
- `snapshots` — the hours due for a snapshot and the snapshots published.
"""
