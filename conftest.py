"""Each pytest run gets a temporary directory of its own.

pytest's default base (`/tmp/pytest-of-<user>/pytest-N`) is shared by every run of the same
user and pruned to the last three: two suites running at once on one machine (two checkouts,
a developer and CI) delete each other's stacks mid-test. A run that passes removes its
directory; one that fails keeps it (service logs) and says where.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_OWN_BASETEMP = "_xiaoer_own_basetemp"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.option.basetemp is None:
        config.option.basetemp = tempfile.mkdtemp(prefix=f"xiaoer-tests-{os.getpid()}-")
        setattr(config, _OWN_BASETEMP, config.option.basetemp)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    own = getattr(session.config, _OWN_BASETEMP, None)
    if own is None:
        return
    if exitstatus == 0:
        shutil.rmtree(own, ignore_errors=True)
    else:
        session.config.get_terminal_writer().line(f"test stacks and logs kept in {own}")
