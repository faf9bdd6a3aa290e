"""Presale's offline tools — never imported by the service, not in the image:

- `tools.presale.data` — the labelled buyer-message datasets and their generators
  (`python -m tools.presale.data.generate`);
- `tools.presale.train` — trains the intent model (`python -m tools.presale.train` writes
  `services/presale/domain/nlu/model.json` and `buyer_texts.json`);
- `tools.presale.kb` — the KB command line (`python -m tools.presale.kb validate|load|show|
  versions|suggestions`).
"""
