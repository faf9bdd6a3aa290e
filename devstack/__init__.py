"""Local dev stack: Tansu broker, embedded PostgreSQL, migrations, the four services.

`python -m devstack up|demo` for people, `LocalStack` for tests (see tests/conftest.py).
"""

from devstack.config import DEFAULT_PORTS, SERVICES, StackConfig
from devstack.stack import LocalStack, StackError

__all__ = ["DEFAULT_PORTS", "SERVICES", "LocalStack", "StackConfig", "StackError"]
