from services.metrics.store import metadata
from shared.alembic_env import run

run(metadata, schema="metrics")
