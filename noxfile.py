"""The supported matrix, in one place: Python x Django x Django REST framework.

    nox -l                                        # the sessions
    nox -s "tests(3.11-django5.2-drf3.16)"        # one of them; pytest arguments after --
    nox -t django6.1                              # every session with that tag
    .ci/py313                                     # Python 3.13 + Django 6.1, in a Debian 13 root

Each session installs ``-e .[test]`` with the pair pinned and runs the whole suite (SQLite,
plus the PostgreSQL/Redis-marked tests, as the README's test command does; set
``APIERRORS_DB``/``APIERRORS_CACHE`` for the service runs). A session whose Python is not on
the machine is skipped (an error when CI=true); nox never downloads one.
"""

from __future__ import annotations

import os

import nox

nox.needs_version = ">=2025.10.14"
nox.options.default_venv_backend = "venv"
nox.options.download_python = "never"
nox.options.sessions = ["tests"]

PYTHONS = ["3.11", "3.12", "3.13"]
# Django 6.0 and 6.1 require Python >= 3.12 (their Requires-Python).
DJANGO_PYTHONS = {"5.2": PYTHONS, "6.0": ["3.12", "3.13"], "6.1": ["3.12", "3.13"]}
# The Django releases each DRF release declares ("Framework :: Django :: N" classifiers).
DRF_DJANGOS = {"3.16": ["5.2"], "3.17": ["5.2", "6.0"], "3.18": ["5.2", "6.0", "6.1"]}

MATRIX = [
    nox.param(
        python,
        django,
        drf,
        id=f"{python}-django{django}-drf{drf}",
        tags=[f"py{python}", f"django{django}", f"drf{drf}"],
    )
    for python in PYTHONS
    for drf, djangos in DRF_DJANGOS.items()
    for django in djangos
    if python in DJANGO_PYTHONS[django]
]


@nox.session
@nox.parametrize(("python", "django", "drf"), MATRIX)
def tests(session: nox.Session, django: str, drf: str) -> None:
    """The whole suite on one (Python, Django, DRF) combination."""
    session.install("-e", ".[test]", f"Django=={django}.*", f"djangorestframework=={drf}.*")
    session.run(
        "python",
        "-c",
        "import sys, django, rest_framework as drf; "
        "print('Python', sys.version.split()[0], '| Django', django.__version__, "
        "'| DRF', drf.__version__)",
    )
    # Two sessions running at once (here and in the Python 3.13 root) must not share a
    # test database on the PostgreSQL server.
    suffix = os.environ.get("APIERRORS_TEST_DB_SUFFIX") or "_nox{}dj{}drf{}".format(
        *(v.replace(".", "") for v in (session.python, django, drf))
    )
    session.run("pytest", *session.posargs, env={"APIERRORS_TEST_DB_SUFFIX": suffix})
