"""ops/topology.py says what each service consumes: it must agree with the services' wiring."""

from __future__ import annotations

import importlib

import pytest

from ops.topology import CONSUMES, SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_consumption_map_matches_the_service(service: str) -> None:
    app = importlib.import_module(f"services.{service}.app")
    settings_module = importlib.import_module(f"services.{service}.settings")
    settings_cls = next(
        v
        for k, v in vars(settings_module).items()
        if k.endswith("Settings") and k != "CommonSettings"
    )
    runtime = app.build_runtime(settings_cls())
    assert sorted(runtime.dispatcher.topics) == sorted(CONSUMES[service]), (
        f"ops/topology.py CONSUMES[{service!r}] is out of date"
    )
