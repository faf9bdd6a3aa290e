from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def shop_id() -> str:
    return f"shop-{uuid.uuid4().hex[:10]}"
