"""Shared fixtures; service-bound tests skip (or, in CI, fail) when their server is absent."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apierrors.dictionary.catalog import catalog

IN_CI = os.environ.get("CI") == "true"
ROOT = Path(__file__).resolve().parent.parent  # the repository: manage.py, testproject/

SERVICES = {
    "postgres": ("127.0.0.1", 5432, "PostgreSQL"),
    "mariadb": ("127.0.0.1", 3306, "MariaDB"),
    "redis": ("127.0.0.1", 6379, "Redis"),
}


def service_reachable(name: str) -> bool:
    host, port, _label = SERVICES[name]
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str) -> None:
    """Skip with a clear reason when a server is not running; in CI that is a failure."""
    host, port, label = SERVICES[name]
    if not service_reachable(name):
        message = f"{label} is not reachable at {host}:{port}"
        if IN_CI:
            pytest.fail(f"{message} (CI must have it)")
        pytest.skip(f"{message}; start it to run this test")


def run_in_fresh_interpreter(script: str) -> None:
    """Run ``script`` in a new Python on the demo project, on a private in-memory SQLite
    database and a local-memory cache whatever this run uses; it must end printing OK."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "APIERRORS_DB": "sqlite",
        "APIERRORS_SQLITE_PATH": ":memory:",
        "APIERRORS_CACHE": "locmem",
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("OK")


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name in SERVICES:
        if item.get_closest_marker(name):
            require_service(name)


@pytest.fixture(autouse=True)
def fresh_catalog():
    """Each test starts with an empty cache and no in-memory dictionary, as a new process."""
    cache.clear()
    catalog.reset()
    yield
    catalog.reset()


@pytest.fixture
def demo(db):
    from testproject.clinic.demo_data import load_demo_data

    return load_demo_data()


@pytest.fixture
def client_north(demo) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {demo['north']}")
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()
