"""The Prefect API that a command-line run reports to.

Prefect starts its own temporary server the first time a flow needs one, after every module is imported,
and gives it 20 s: on a loaded 2-core machine a first start, which creates and migrates the database in
``PREFECT_HOME``, takes longer, and the run dies. ``newsfacts run`` instead starts that same server (Prefect's
ASGI app under uvicorn, UI and services off) as its very first step, before importing Prefect, so the
server's start-up overlaps the run's own imports and gazetteer check, and waits for it as long as
``NEWSFACTS_PREFECT_STARTUP_TIMEOUT`` allows (default 300 s), saying why it waits.

``PREFECT_API_URL`` set, or a server already answering on the configured port (``newsfacts serve``),
is used as it is: then the run also appears in that server's UI.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from newsfacts.config import Settings


class ServerUnavailable(RuntimeError):
    """The Prefect API could not be reached or started."""


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Whether a Prefect API answers its health check at ``api_url`` (…/api)."""
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as resp:  # noqa: S310 - loopback
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class TemporaryServer:
    """Prefect's server app in a child process on a free loopback port, for one command's lifetime."""

    def __init__(self, log: Path):
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        log.parent.mkdir(parents=True, exist_ok=True)
        site = Path(importlib.util.find_spec("prefect").submodule_search_locations[0]).parent
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               # what Prefect sets for its own temporary server: no UI, no background services
               "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        env.pop("PREFECT_API_URL", None)
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--app-dir", str(site), "--factory",
                 "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(self.port),
                 "--log-level", "error", "--lifespan", "on"],
                env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.started = time.monotonic()

    def wait(self, timeout: float, say: Callable[[str], None] = print) -> None:
        """Block until the server answers; say once why when that takes more than a few seconds."""
        deadline, told = self.started + timeout, False
        while not healthy(self.url, timeout=1.0):
            if self.proc.poll() is not None:
                raise ServerUnavailable(f"Prefect's temporary server exited with code {self.proc.returncode}: "
                                        f"{self._tail()} (log: {self.log})")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerUnavailable(
                    f"Prefect's temporary server did not answer within {timeout:g} s (log: {self.log}); "
                    "raise NEWSFACTS_PREFECT_STARTUP_TIMEOUT or start one with `newsfacts serve`")
            if not told and time.monotonic() - self.started > 5:
                say(f"waiting for Prefect's temporary server at {self.url} (its first start creates its database "
                    f"in {os.environ.get('PREFECT_HOME', '~/.prefect')}; up to {timeout:g} s)")
                told = True
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _tail(self) -> str:
        with contextlib.suppress(OSError):
            return " ".join(self.log.read_text(errors="replace").split()[-60:])
        return ""


@contextlib.contextmanager
def prefect_api(settings: Settings) -> Iterator[Callable[[], None]]:
    """Point Prefect at an API for the block; yields ``ready()``, which waits until the API answers.

    Must be entered before Prefect is imported: Prefect reads ``PREFECT_API_URL`` once, at import.
    """
    if os.environ.get("PREFECT_API_URL"):
        url = os.environ["PREFECT_API_URL"]

        def given() -> None:
            if not healthy(url, timeout=10):
                raise ServerUnavailable(f"no Prefect server answers at PREFECT_API_URL={url}")

        yield given
        return
    served = f"http://{settings.prefect_host}:{settings.prefect_port}/api"
    if healthy(served, timeout=0.5):
        os.environ["PREFECT_API_URL"] = served
        try:
            yield lambda: None
        finally:
            os.environ.pop("PREFECT_API_URL", None)
        return
    server = TemporaryServer(settings.work_dir / "prefect-temporary-server.log")
    os.environ["PREFECT_API_URL"] = server.url
    try:
        yield lambda: server.wait(settings.prefect_startup_timeout)
    finally:
        _flush_logs()
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


def _flush_logs() -> None:
    """Send the run's last log lines to the server before it stops (else: 'Error logging to API')."""
    if "prefect.logging.handlers" in sys.modules:
        from prefect.logging.handlers import APILogWorker

        with contextlib.suppress(Exception):
            APILogWorker.drain_all(timeout=5)
