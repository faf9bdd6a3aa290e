from services.insale.store import metadata
from shared.alembic_env import run

run(metadata, schema="insale")
