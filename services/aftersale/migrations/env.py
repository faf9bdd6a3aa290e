from services.aftersale.store import metadata
from shared.alembic_env import run

run(metadata, schema="aftersale")
