"""``newsfacts serve``: a Prefect server on loopback and newsfacts' two deployments.

- ``newsfacts/scheduled-inbox`` ingests the configured inbox folder on a cron (default hourly);
- ``newsfacts/backfill`` has no schedule: an engineer starts it from the UI (Run → Custom run) with
  typed parameters (source folder or glob, date ranges, stages, force).

Both are limited to one run at a time; across deployments the writer lock in :mod:`newsfacts.lock`
makes a second run wait or stop with a clear message. If ``PREFECT_API_URL`` names a server, or one
already answers on the configured port, serve connects to it instead of starting another.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from newsfacts.api import healthy
from newsfacts.config import Settings

SCHEDULED = "scheduled-inbox"
BACKFILL = "backfill"


def start_server(host: str, port: int, wait: float = 120.0, log: Path | None = None) -> subprocess.Popen:
    """Start ``prefect server start`` bound to ``host`` and wait until its API answers."""
    # The UI must call this server's API, not the default port's.
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "true",
           "PREFECT_SERVER_API_HOST": host, "PREFECT_SERVER_API_PORT": str(port),
           "PREFECT_UI_API_URL": f"http://{host}:{port}/api"}
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "server", "start", "--host", host,
                             "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)  # Ctrl-C reaches serve, which pauses, then stops it
    api = f"http://{host}:{port}/api"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {proc.returncode} (log: {log})")
        if healthy(api):
            return proc
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"the Prefect server did not answer on {api} within {wait:.0f} s (log: {log})")


def deployments(settings: Settings, schedule: str | None = None):
    """The two deployments, built from configuration (cron, inbox, task runner)."""
    from prefect.deployments.runner import EntrypointType

    from newsfacts.config import PIPELINE_VERSION
    from newsfacts.flow import newsfacts_flow

    settings.inbox.mkdir(parents=True, exist_ok=True)
    common = dict(concurrency_limit=1, enforce_parameter_schema=True, version=PIPELINE_VERSION,
                  entrypoint_type=EntrypointType.MODULE_PATH, tags=["newsfacts"])
    scheduled = newsfacts_flow.to_deployment(
        name=SCHEDULED, cron=schedule or settings.inbox_cron, parameters={"source": str(settings.inbox)},
        description=f"Ingest new or changed files from {settings.inbox} and publish the warehouse.", **common)
    backfill = newsfacts_flow.to_deployment(
        name=BACKFILL, description=(
            "Reprocess on demand: a source folder or glob under the allowed source folders, date ranges of "
            "stored documents to redo, which stages to rerun (e.g. only transform after a gazetteer update), "
            "force."), **common)
    return [scheduled, backfill]


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


async def _serve_until_stopped(runner) -> None:
    """Serve until SIGTERM or Ctrl-C, then stop the runner on its own loop: it pauses the schedules and
    ends cleanly. (Prefect's own SIGTERM handler calls ``stop`` from a signal frame, which leaves
    ``Runner.astop`` un-awaited; an exception raised there leaves its tasks cancelled mid-read.)"""
    import asyncio

    loop = asyncio.get_running_loop()

    def stop(*_args) -> None:
        loop.call_soon_threadsafe(lambda: loop.create_task(runner.astop()) if runner.started else None)

    runner.handle_sigterm = stop  # Runner.start installs it for SIGTERM
    loop.add_signal_handler(signal.SIGINT, stop)
    await runner.start()


def serve(settings: Settings | None = None, keep_schedules: bool = False, schedule: str | None = None) -> int:
    """Connect to (or start) the Prefect server, then serve the deployments until interrupted."""
    settings = settings or Settings()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    server = None
    api = os.environ.get("PREFECT_API_URL") or f"http://{settings.prefect_host}:{settings.prefect_port}/api"
    if not healthy(api):
        if "PREFECT_API_URL" in os.environ:
            print(f"newsfacts serve: no Prefect server answers at {api}", file=sys.stderr)
            return 2
        log = settings.work_dir / "prefect-server.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        print(f"starting a Prefect server on {settings.prefect_host}:{settings.prefect_port} (log: {log})")
        server = start_server(settings.prefect_host, settings.prefect_port, log=log)
    os.environ["PREFECT_API_URL"] = api
    print(f"Prefect UI: {api.removesuffix('/api')}  (deployments: newsfacts/{SCHEDULED}, newsfacts/{BACKFILL})")
    signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C, so the server we started stops too
    try:
        import asyncio

        from prefect.runner import Runner

        # Prefect polls for runs to start every 10 s by default: a run submitted from the UI waited 10-14 s.
        runner = Runner(pause_on_shutdown=not keep_schedules, query_seconds=2)
        for dep in deployments(settings, schedule):
            runner.add_deployment(dep)
        asyncio.run(_serve_until_stopped(runner))
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    return 0
