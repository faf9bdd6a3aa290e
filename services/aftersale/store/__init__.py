"""Aftersale's storage: one module per aggregate, loading and saving domain types.

- `tables` — the schema (`metadata`, for migrations and the runtime);
- `cases` — cases and their history; `orders` — orders and item categories;
- `signals` (buyer risk), `conversations`, `reviews`, `early_changes` (a refund change
  consumed before its request);
- `book` — a batch's (or a timer's) aggregates, loaded and saved in bulk;
- `housekeeping` — what the runtime prunes.
"""

from services.aftersale.store.cases import add_history, get_case, history, insert_case
from services.aftersale.store.tables import metadata

__all__ = ["add_history", "get_case", "history", "insert_case", "metadata"]
