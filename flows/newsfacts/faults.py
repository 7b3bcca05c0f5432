"""Fault injection for the fault-tolerance tests: the real pipeline, killed or failed at a named stage.

``NEWSFACTS_FAULT=<action>:<stage>`` (action ``kill`` sends SIGKILL to the process, ``raise`` raises
``InjectedFault``) makes the pipeline fail exactly where the tests want it, with no mock in between.
Unset, :func:`checkpoint` costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

STAGES = ("ingest", "raw", "clean", "stories", "entities", "transform", "publish")


class InjectedFault(RuntimeError):
    """Raised by a ``raise:<stage>`` fault."""


def checkpoint(stage: str) -> None:
    """Fail here if the environment asks for a fault at this stage."""
    spec = os.environ.get("NEWSFACTS_FAULT")
    if not spec:
        return
    action, _, where = spec.partition(":")
    if where != stage:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "raise":
        raise InjectedFault(f"injected fault at stage {stage}")
