"""A shop's override file is re-read when it changes, at most once per interval."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.metrics.quality.rulebook import RuleBook, RulesInvalid, load_defaults

DEFAULTS = load_defaults()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def write(path: Path, text: str, bump: int) -> None:
    """Write and give the file a distinct modification time (coarse file-system clocks)."""
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump * 1_000_000_000))


def test_a_changed_override_is_reloaded_after_the_interval(tmp_path: Path) -> None:
    clock = FakeClock()
    shop = tmp_path / "shop-a.yaml"
    write(shop, "version: '1'\n", 0)
    book = RuleBook(tmp_path, DEFAULTS, reload_interval_s=5.0, clock=clock)
    assert book.for_shop("shop-a").version == f"{DEFAULTS.version}+shop-a.1"
    assert book.for_shop("shop-a").check("顶级面料").verdict == "warn"

    write(shop, "version: '2'\nallow: [顶级]\n", 1)
    clock.now += 4.9  # within the interval: the folder is not looked at
    assert book.for_shop("shop-a").version == f"{DEFAULTS.version}+shop-a.1"
    clock.now += 0.2
    rules = book.for_shop("shop-a")
    assert rules.version == f"{DEFAULTS.version}+shop-a.2"
    assert rules.check("顶级面料").verdict == "ok"


def test_new_and_deleted_overrides_are_picked_up(tmp_path: Path) -> None:
    clock = FakeClock()
    book = RuleBook(tmp_path, DEFAULTS, reload_interval_s=1.0, clock=clock)
    assert book.for_shop("shop-b") is DEFAULTS
    # the rule and the learned scorer's second opinion (which learned 顶级 too) switched off
    write(tmp_path / "shop-b.yaml", "version: '1'\ndisable: [ad_law.grade, ad_law.model]\n", 0)
    clock.now += 1.0
    assert book.for_shop("shop-b").check("顶级面料").verdict == "ok"
    assert book.shops == ["shop-b"]
    (tmp_path / "shop-b.yaml").unlink()
    clock.now += 1.0
    assert book.for_shop("shop-b") is DEFAULTS
    assert book.shops == []


def test_an_unchanged_file_is_not_parsed_again(tmp_path: Path) -> None:
    clock = FakeClock()
    write(tmp_path / "shop-c.yaml", "version: '1'\n", 0)
    book = RuleBook(tmp_path, DEFAULTS, reload_interval_s=1.0, clock=clock)
    before = book.for_shop("shop-c")
    clock.now += 10
    assert book.reload() == []
    assert book.for_shop("shop-c") is before


def test_an_invalid_change_keeps_the_previous_rules(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    shop = tmp_path / "shop-d.yaml"
    write(shop, "version: '1'\nallow: [顶级]\n", 0)
    book = RuleBook(tmp_path, DEFAULTS, reload_interval_s=1.0, clock=clock)
    write(shop, "version: '2'\ndisable: [no.such_rule]\n", 1)
    clock.now += 1.0
    assert book.for_shop("shop-d").version == f"{DEFAULTS.version}+shop-d.1"
    assert "no.such_rule" in caplog.text
    write(shop, "version: '3'\n", 2)  # fixed: picked up at the next look
    clock.now += 1.0
    assert book.for_shop("shop-d").version == f"{DEFAULTS.version}+shop-d.3"


def test_an_invalid_override_still_stops_the_start(tmp_path: Path) -> None:
    write(tmp_path / "shop-e.yaml", "version: '1'\ndisable: [no.such_rule]\n", 0)
    with pytest.raises(RulesInvalid):
        RuleBook(tmp_path, DEFAULTS)
