"""The body of every service's Alembic env.py: one schema per service, async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from shared.db import create_engine


def _run_sync(connection: Connection, metadata: MetaData) -> None:
    # The connection's search_path is the service schema, so the version table lives there too.
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_schemas=False,
        include_name=lambda name, type_, _parents: (
            not (type_ == "table" and name == "alembic_version")
        ),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run(metadata: MetaData, schema: str, url: str) -> None:
    engine = create_engine(url, schema, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        async with engine.connect() as conn:
            await conn.run_sync(_run_sync, metadata)
            await conn.commit()
    finally:
        await engine.dispose()


def run(metadata: MetaData, schema: str) -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set DATABASE_URL (or sqlalchemy.url) to run migrations")
    asyncio.run(_run(metadata, schema, url))
