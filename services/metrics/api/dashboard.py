"""The dashboard at `/`: static HTML, JS and CSS shipped with the service (works offline)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent / "static"
MEDIA = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}


def build_dashboard() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    files = {p.name: p for p in STATIC.iterdir() if p.suffix in MEDIA}

    @router.get("/")
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @router.get("/static/{name}")
    async def asset(name: str) -> FileResponse:
        path = files.get(name)
        if path is None:
            raise HTTPException(404, f"no asset {name!r}")
        return FileResponse(path, media_type=MEDIA[path.suffix] + "; charset=utf-8")

    return router
