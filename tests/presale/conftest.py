"""Presale's tests classify buyer messages: the shipped NLU model is installed once, the way
`services.presale.app.build_runtime` does at start-up (the domain reads no file)."""

from services.presale.nlu_loader import install

install()
