from services.presale.store import metadata
from shared.alembic_env import run

run(metadata, schema="presale")
