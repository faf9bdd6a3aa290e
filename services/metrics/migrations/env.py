from services.metrics.store.tables import metadata
from shared.alembic_env import run

run(metadata, schema="metrics")
