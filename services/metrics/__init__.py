"""metrics: exact, replayable KPIs per agent and per shop (see docs/kpis.md)."""
