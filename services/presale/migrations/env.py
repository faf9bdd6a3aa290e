from services.presale import order_store  # noqa: F401  (its tables join the metadata)
from services.presale.store import metadata
from shared.alembic_env import run

run(metadata, schema="presale")
