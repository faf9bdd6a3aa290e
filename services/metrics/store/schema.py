"""Metrics' schema `metrics`: the metadata, the plumbing tables and the column types every
table family uses (`fact_tables`, `derived_tables`)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String

from shared.db import new_metadata
from shared.plumbing import plumbing_tables

metadata = new_metadata()
inbox, outbox, timers = plumbing_tables(metadata)

ID = String(200)
TS = DateTime(timezone=True)


def ts(name: str, nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(name, TS, nullable=nullable)
