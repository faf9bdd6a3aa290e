"""Shop knowledge bases: files (YAML/JSON) → validated `KnowledgeBase` → versioned rows.

`python -m tools.presale.kb load FILE --shop SHOP` loads a file (DATABASE_URL); the REST API
in `services.presale.api` edits it; `PRESALE_KB_FILES` loads files at start-up for shops that
have no KB yet. `shop-demo.yaml` here is the simulator's demo shop.
"""
