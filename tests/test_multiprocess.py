"""Every process current: gunicorn with 3 independent workers (no --preload) on PostgreSQL and
Redis. An entry is changed through the ORM in this process, then through the admin on one of
the workers; after each commit, every response from every worker carries the new text."""

import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections

from apierrors.models import ErrorCode

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

WORKERS = 3
ROOT = Path(__file__).resolve().parent.parent
URL = "/rt/problem/business/"  # raises appointment_unavailable
BOOKED = "This appointment time is no longer available."


class Gunicorn:
    """gunicorn on 127.0.0.1 (a free port it picks), killed however the test ends."""

    def __init__(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.multiprocess_settings",
            "APIERRORS_MP_DEFAULT_DB": connections["default"].settings_dict["NAME"],
            "APIERRORS_MP_OTHER_DB": connections["other"].settings_dict["NAME"],
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "testproject.wsgi:application",
             "--workers", str(WORKERS), "--bind", "127.0.0.1:0", "--timeout", "30",
             "--graceful-timeout", "3", "--log-level", "info"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.log: list[str] = []
        self.base = ""
        self.booted: set[int] = set()
        threading.Thread(target=self._read_log, daemon=True).start()

    def _read_log(self) -> None:
        for line in self.process.stderr:
            self.log.append(line)
            if match := re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line):
                self.base = match.group(1)
            if match := re.search(r"Booting worker with pid: (\d+)", line):
                self.booted.add(int(match.group(1)))

    def wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not (self.base and len(self.booted) >= WORKERS):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("gunicorn did not start:\n" + "".join(self.log))
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def gunicorn():
    redis = settings.CACHES["default"]["BACKEND"].endswith(".RedisCache")
    if connections["default"].vendor != "postgresql" or not redis:
        pytest.skip("runs in the PostgreSQL + Redis suite (APIERRORS_DB=postgres "
                    "APIERRORS_CACHE=redis): workers must share the database and the cache")
    server = Gunicorn()
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


def fetch(base: str) -> tuple[int, str]:
    response = requests.get(base + URL, headers={"Connection": "close"}, timeout=10)
    assert response.status_code == 422, response.text
    return int(response.headers["X-Worker-Pid"]), response.json()["detail"]


def until_every_worker_answered(base: str, times: int = 2, limit: int = 300,
                                seconds: float = 60) -> list[tuple[int, str]]:
    """Concurrent batches (so the workers share them) until each worker answered ``times``."""
    answers: list[tuple[int, str]] = []
    deadline = time.monotonic() + seconds
    with ThreadPoolExecutor(max_workers=2 * WORKERS) as pool:
        while len(answers) < limit and time.monotonic() < deadline:
            answers += pool.map(fetch, [base] * (2 * WORKERS))
            counts = {pid: sum(1 for p, _ in answers if p == pid) for pid, _ in answers}
            if len(counts) >= WORKERS and min(counts.values()) >= times:
                return answers
    raise AssertionError(f"not every worker answered {times}x: {sorted(set(answers))}")


class FormFields(HTMLParser):
    """The fields of the admin's change form, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields[name] = a.get("value") or ("on" if a.get("type") == "checkbox" else "")
        elif tag == "textarea" and name:
            self._textarea, self.fields[name] = name, ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def edit_in_the_admin(base: str, pk: int, message: str) -> None:
    session = requests.Session()
    login = session.get(f"{base}/admin/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    response = session.post(f"{base}/admin/login/?next=/admin/", timeout=10, data={
        "csrfmiddlewaretoken": token, "username": "mp-admin", "password": "mp-password",
        "next": "/admin/"})
    assert response.url.endswith("/admin/"), response.text[:500]
    change_url = f"{base}/admin/apierrors/errorcode/{pk}/change/"
    form = FormFields()
    form.feed(session.get(change_url, timeout=10).text)
    response = session.post(change_url, timeout=10, allow_redirects=False,
                            data={**form.fields, "message": message, "_save": "Save"})
    assert response.status_code == 302, response.text[:2000]


def test_every_worker_answers_with_an_edit_as_soon_as_it_commits(gunicorn):
    get_user_model().objects.create_superuser("mp-admin", password="mp-password")
    entry = ErrorCode.objects.get(key="appointment_unavailable")

    # Every worker has loaded the dictionary and answers from memory.
    warm = until_every_worker_answered(gunicorn.base)
    assert {text for _, text in warm} == {BOOKED}
    assert len({pid for pid, _ in warm}) == WORKERS

    # An edit through the ORM in this process (autocommit: committed when save() returns).
    entry.message = "Edited through the ORM."
    entry.save()
    after_orm = until_every_worker_answered(gunicorn.base)
    stale = [(pid, text) for pid, text in after_orm if text != "Edited through the ORM."]
    assert stale == [], f"{len(stale)} stale of {len(after_orm)}"

    # An edit through the admin, on whichever worker takes it.
    edit_in_the_admin(gunicorn.base, entry.pk, "Edited in the admin.")
    after_admin = until_every_worker_answered(gunicorn.base)
    stale = [(pid, text) for pid, text in after_admin if text != "Edited in the admin."]
    assert stale == [], f"{len(stale)} stale of {len(after_admin)}"
    assert ErrorCode.objects.get(pk=entry.pk).message == "Edited in the admin."
