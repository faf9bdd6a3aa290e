from __future__ import annotations

from datetime import timedelta

from shared.settings import CommonSettings


class PresaleSettings(CommonSettings):
    service_name: str = "xiaoer-presale"
    http_port: int = 8001
    session_gap: timedelta = timedelta(minutes=30)
    """Silence after which a conversation's session closes and frees its agent (SESSION_GAP)."""
