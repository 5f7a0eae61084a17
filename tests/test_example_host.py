"""examples/hostproject, an ordinary DRF project that adopts apierrors with only the README's
install lines, keeps its own test suite (TestCase with restricted databases, SimpleTestCase,
URLPatternsTestCase, pytest tests without database access, transactional tests) passing."""

import os
import re
import subprocess
import sys
from pathlib import Path

HOST_PROJECT = Path(__file__).resolve().parent.parent / "examples" / "hostproject"
EXPECTED_PASSED = 49


def test_the_example_host_projects_own_suite_passes():
    # Run as its team would, from its directory: its pytest.ini names its settings, so the
    # settings module this suite exported must not leak in (pytest-django prefers it).
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=HOST_PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) ([a-z]+)", summary)}
    counts.pop("warnings", None)
    counts.pop("warning", None)
    assert (result.returncode, counts) == (0, {"passed": EXPECTED_PASSED}), (
        f"examples/hostproject's suite: exit {result.returncode}, {summary!r}\n{output}"
    )
