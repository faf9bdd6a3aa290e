"""Shop knowledge bases as files: YAML/JSON → validated `KnowledgeBase` (`loading`, read at
start-up for PRESALE_KB_FILES and by the KB API's import); versions are stored by
`services.presale.store.kb`. `python -m tools.presale.kb load FILE --shop SHOP` loads a file
(DATABASE_URL); the REST API in `services.presale.api` edits a KB. `shop-demo.yaml` here is the
simulator's demo shop.
"""
