"""Where the metrics dashboard of a running stack is, and the token to paste into it."""

from __future__ import annotations

import os
import shlex
import sys
import webbrowser
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from devstack.config import DEFAULT_PORTS, DEMO_SHOP

SHOP_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class DashboardLink:
    url: str
    token: str
    shop_id: str = DEMO_SHOP

    def lines(self) -> list[str]:
        return [
            f"Dashboard: {self.url}",
            f"  paste this token into its Token field: {self.token}",
            f"  (shop {self.shop_id}; the token reads that shop only)",
        ]


def dashboard_url(
    metrics_port: int,
    shop_id: str = DEMO_SHOP,
    start: datetime | None = None,
    end: datetime | None = None,
) -> str:
    """The dashboard's address, preset to the shop and the shop-local days of the window."""
    query = {"shop": shop_id}
    if start is not None and end is not None:
        query["from"] = f"{start.astimezone(SHOP_TZ):%Y-%m-%d}"
        query["to"] = f"{end.astimezone(SHOP_TZ):%Y-%m-%d}"
    return f"http://127.0.0.1:{metrics_port}/?{urlencode(query)}"


def shop_token(api_tokens: str, shop_id: str = DEMO_SHOP) -> str:
    """The token of `shop_id` in an API_TOKENS value (`shop:token,shop:token`)."""
    for entry in api_tokens.split(","):
        shop, _, token = entry.strip().partition(":")
        if shop == shop_id and token:
            return token
    raise LookupError(f"API_TOKENS has no token for {shop_id}")


def read_stack_env(env_file: Path) -> dict[str, str]:
    """The `export KEY=value` lines of `<state>/stack.env`."""
    if not env_file.exists():
        raise FileNotFoundError(
            f"{env_file} does not exist: start a stack first (`make up` or `make demo`)"
        )
    out: dict[str, str] = {}
    for line in env_file.read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            parts = shlex.split(value)
            out[key] = parts[0] if parts else ""
    return out


def link_from_env(env: dict[str, str], shop_id: str = DEMO_SHOP) -> DashboardLink:
    port = int(env.get("METRICS_HTTP_PORT") or DEFAULT_PORTS["metrics"])
    return DashboardLink(dashboard_url(port, shop_id), shop_token(env["API_TOKENS"], shop_id))


def can_open_browser() -> bool:
    """A graphical session (or macOS) where opening a browser makes sense."""
    return sys.platform == "darwin" or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def open_browser(url: str) -> bool:
    try:
        return can_open_browser() and webbrowser.open(url)
    except webbrowser.Error:
        return False
