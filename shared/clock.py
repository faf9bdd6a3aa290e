"""Injectable clocks: handlers and timers never call datetime.now() themselves."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ScaledClock:
    """Business time that runs `speed` times faster than the wall clock from `epoch`.

    The demo compresses a shop day this way; with speed 1 and no epoch it is the system clock.
    All processes given the same epoch and speed agree on the time.
    """

    def __init__(self, speed: float, epoch: datetime | None = None) -> None:
        self.speed = speed
        self.epoch = epoch or datetime.now(UTC)
        self._wall_epoch = self.epoch.timestamp() if epoch is not None else time.time()

    def now(self) -> datetime:
        elapsed = (time.time() - self._wall_epoch) * self.speed
        return self.epoch + timedelta(seconds=elapsed)

    def wall_seconds(self, business: timedelta) -> float:
        return business.total_seconds() / self.speed


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, value: datetime) -> None:
        self._now = value


def clock_from_settings(speed: float, epoch: datetime | None) -> Clock:
    if speed == 1.0 and epoch is None:
        return SystemClock()
    return ScaledClock(speed, epoch)
