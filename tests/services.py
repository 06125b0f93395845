"""Which real services the suite can use, and the rule for when one is missing.

With HAVEN_REQUIRE_SERVICES=1 (set by .ci/run) a missing service fails the test
that needs it instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest

POSTGRES_ADMIN_URL = os.environ.get("HAVEN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HAVEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHROMIUM = os.environ.get("HAVEN_CHROMIUM", "/usr/bin/chromium")


def required() -> bool:
    return os.environ.get("HAVEN_REQUIRE_SERVICES") == "1"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def postgres_available() -> bool:
    return _port_open("127.0.0.1", 5432)


def redis_available() -> bool:
    return _port_open("127.0.0.1", 6379)


def chromium_available() -> bool:
    return shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM)


def need(name: str, available: bool) -> None:
    """Skip (or, when services are required, fail) unless ``available``."""
    if available:
        return
    message = f"{name} is not reachable"
    if required():
        pytest.fail(f"{message} and HAVEN_REQUIRE_SERVICES=1")
    pytest.skip(message)


if __name__ == "__main__":
    import sys

    checks = {"postgres": postgres_available, "redis": redis_available, "chromium": chromium_available}
    name = sys.argv[1]
    ok = checks[name]()
    if not ok and required():
        print(f"{name} is required (HAVEN_REQUIRE_SERVICES=1) but not reachable", file=sys.stderr)
        sys.exit(2)
    sys.exit(0 if ok else 1)
