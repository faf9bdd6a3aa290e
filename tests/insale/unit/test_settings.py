"""Insale settings: defaults, environment names, and templates checked at start-up."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from pydantic import ValidationError

from services.insale.settings import InsaleSettings


def test_defaults_are_the_documented_rules() -> None:
    s = InsaleSettings()
    assert s.service_name == "xiaoer-insale"
    assert s.http_port == 8002
    assert s.db_schema == "insale"
    assert s.insale_unpaid_reminder_after == timedelta(minutes=30)
    assert s.insale_unpaid_max_reminders == 1
    assert (s.insale_quiet_start, s.insale_quiet_end) == (time(22), time(8))
    assert s.insale_ship_within == timedelta(hours=48)
    assert s.logistics_stall_after == timedelta(hours=72)


def test_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSALE_UNPAID_REMINDER_AFTER", "PT15M")
    monkeypatch.setenv("LOGISTICS_STALL_AFTER", "P5D")
    monkeypatch.setenv("INSALE_REMINDER_OPT_OUT", '["shop-a"]')
    monkeypatch.setenv("INSALE_REMINDER_TEMPLATES", '{"shop-b": "{item}，{close_time}关闭"}')
    s = InsaleSettings()
    assert s.insale_unpaid_reminder_after == timedelta(minutes=15)
    assert s.logistics_stall_after == timedelta(days=5)
    assert s.insale_reminder_opt_out == frozenset({"shop-a"})
    assert s.insale_reminder_templates["shop-b"].startswith("{item}")


def test_a_template_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown fields"):
        InsaleSettings(insale_reminder_templates={"shop-a": "{buyer_name}快付款"})
