"""Metrics' storage, one module per table family; each loads and saves the types of `domain/`
(or small dataclasses of its own for what the API adds up) — no rows leak out.

- `schema` (metadata, plumbing tables, column types), `fact_tables`, `derived_tables`, and
  `tables`, all of them in one namespace (for migrations, the runtime and the replay);
- `facts` — facts inserted, deduplicated on their identity, and loaded per entity;
- `derived` — the derived rows of conversations, orders and refunds, replaced in bulk;
- `snapshots` — the hours due for a snapshot and the snapshots published;
- `kpis` (per responder), `shop_kpis`, `open_rounds` (buyers waiting), `quality`,
  `recovery` (催付), `insights`, `refund_reasons` — what the API and the gauges add up;
- `sql` — the statements they share (many entities of a shop at a time, COPY).
"""
