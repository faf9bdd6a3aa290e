"""Presale's HTTP API: `kb` (the shops' knowledge bases), `suggestions` (KB suggestions to
review); `schemas` the bodies, `deps` the connection and the caller (`shared.http_auth`)."""

from services.presale.api.kb import kb_router
from services.presale.api.suggestions import suggestions_router

__all__ = ["kb_router", "suggestions_router"]
