"""Presale's storage: one module per aggregate, loading and saving domain types (no row
leaves this package).

- `tables` — the schema (`metadata`, for the migrations and the runtime);
- `conversations` — `Conversation`s, a batch's in one locked query and one bulk save;
- `agents` — the roster and each agent's load (`AgentLoad`), locked per shop;
- `buyer_orders` — each buyer's latest order and the shops' order feed (`OrderBook`);
- `kb` — the shops' knowledge bases, versioned (`KbVersion`, `KbCache`);
- `gaps` — questions the bot did not answer (`Unanswered` in, `Gap` out);
- `suggestions` — KB suggestions to review (`Suggestion`).
"""

from services.presale.store.tables import metadata

__all__ = ["metadata"]
