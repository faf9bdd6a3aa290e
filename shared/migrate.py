"""Run every service's Alembic migrations: `python -m shared.migrate [service ...]`.

In Kubernetes this is the migrations Job; locally the devstack launcher calls `upgrade_all`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config

SERVICES = ("presale", "insale", "aftersale", "metrics")
ROOT = Path(__file__).resolve().parent.parent


def alembic_config(service: str, database_url: str) -> Config:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; expected one of {SERVICES}")
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def upgrade_all(database_url: str, services: Iterable[str] = SERVICES) -> None:
    for service in services:
        upgrade(service, database_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("services", nargs="*", default=list(SERVICES))
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    if not args.database_url:
        parser.error("DATABASE_URL is not set")
    upgrade_all(args.database_url, args.services)


if __name__ == "__main__":
    main()
