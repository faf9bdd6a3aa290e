"""The KB command line (`python -m tools.presale.kb`): an operator's tool, not shipped in the
image; it uses the service's store and insight modules against DATABASE_URL."""
