"""Aftersale's REST API (`routes`) and the JSON it answers with (`schemas`)."""

from services.aftersale.api.routes import build_router

__all__ = ["build_router"]
