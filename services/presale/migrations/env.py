from services.presale.store.tables import metadata
from shared.alembic_env import run

run(metadata, schema="presale")
