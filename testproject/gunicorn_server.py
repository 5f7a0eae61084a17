"""The demo project under gunicorn on 127.0.0.1, for the multi-process tests and bench_load.

One harness: a free port gunicorn picks, sync workers, the log read in a thread (the address
it listens at, the workers it booted), and a stop that kills what does not stop in time.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository: manage.py, testproject/


class GunicornServer:
    """``gunicorn testproject.wsgi:application`` with ``workers`` workers, started at once."""

    def __init__(
        self,
        workers: int,
        env: dict[str, str],
        *,
        preload: bool = False,
        graceful_timeout: int = 3,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.workers = workers
        self.graceful_timeout = graceful_timeout
        # --preload: the app is loaded in the master, then forked (sockets, locks, the
        # catalog's state are inherited); without it, each worker loads it on its own.
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "testproject.wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                "127.0.0.1:0",
                "--timeout",
                "30",
                "--graceful-timeout",
                str(graceful_timeout),
                "--log-level",
                "info",
                *(["--preload"] if preload else []),
                *extra_args,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[str] = []
        self.base = ""  # http://127.0.0.1:PORT once gunicorn listens
        self.booted: set[int] = set()  # the pids of the workers it booted
        threading.Thread(target=self._read_log, daemon=True).start()

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            if match := re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line):
                self.base = match.group(1)
            if match := re.search(r"Booting worker with pid: (\d+)", line):
                self.booted.add(int(match.group(1)))

    def wait_until_up(self, timeout: float = 60) -> None:
        """Until it listens and booted every worker; RuntimeError with its log if not."""
        deadline = time.monotonic() + timeout
        while not (self.base and len(self.booted) >= self.workers):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" + "".join(self.log[-30:]))
            time.sleep(0.05)

    def stop(self) -> None:
        """A graceful stop (SIGTERM: each worker finishes and exits), killed if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.graceful_timeout + 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
