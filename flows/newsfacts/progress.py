"""Progress of long runs, per stage: a bar per stage on a terminal, plain periodic lines otherwise.

Stage logic never calls this; the flow does, once per batch::

    p = Progress(total_docs)          # or Progress(total_docs, stream=..., tty=False)
    p.stage("clean")                  # starts the stage's bar (total defaults to total_docs)
    p.advance("clean", len(batch))    # documents done
    p.close()                         # finishes every bar and prints final lines

On a terminal, rich draws one bar per stage (documents done/total, rate, ETA). Anywhere else (CI,
Prefect workers, redirected output) it writes a line per stage at most every ``interval`` seconds and
when the stage completes, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO


@dataclass
class _Stage:
    name: str
    total: int
    done: int = 0
    skipped: int = 0  # counted as done without work (known inputs): never part of the rate
    started: float = 0.0
    last_line: float = float("-inf")
    last_done: int = -1
    finished: bool = False
    task_id: int | None = None


def _seconds(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    """Per-stage progress; see the module docstring for the calls the flow makes."""

    def __init__(self, total: int, *, stream: TextIO | None = None, tty: bool | None = None,
                 interval: float = 10.0, unit: str = "docs", clock: Callable[[], float] = time.monotonic,
                 log: Callable[[str], None] | None = None) -> None:
        self.total = max(0, int(total))
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else tty
        self.interval = interval
        self.unit = unit
        self.clock = clock
        self.log = log
        self.stages: dict[str, _Stage] = {}
        self._bars = None
        if self.tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bars

            console = Console(file=self.stream, force_terminal=True)
            self._bars = Bars(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                              TextColumn(unit), TaskProgressColumn(),
                              TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                              TimeRemainingColumn(), console=console, transient=False)
            self._bars.start()

    def stage(self, name: str, total: int | None = None) -> None:
        """Start (or restart with a new total) the bar of stage ``name``."""
        total = self.total if total is None else max(0, int(total))
        st = self.stages.get(name)
        if st is None:
            st = self.stages[name] = _Stage(name, total, started=self.clock())
            if self._bars is not None:
                st.task_id = self._bars.add_task(name, total=total or None, rate="")
        else:
            st.total = total
            if self._bars is not None:
                self._bars.update(st.task_id, total=total or None)

    def start(self, name: str) -> None:
        """Start stage ``name``'s clock before its first unit of work (no-op when it has started)."""
        if name not in self.stages:
            self.stage(name)

    def skip(self, name: str, n: int) -> None:
        """Count ``n`` units done without work (e.g. inputs known by their stamp); they do not make a rate."""
        self.start(name)
        self.stages[name].skipped += n
        self.advance(name, n)

    def advance(self, name: str, n: int = 1) -> None:
        """Count ``n`` more units done in stage ``name`` (starting the stage if needed)."""
        if name not in self.stages:
            self.stage(name)
        st = self.stages[name]
        st.done += n
        now = self.clock()
        if self._bars is not None:
            self._bars.update(st.task_id, completed=st.done, rate=self._rate_text(st, now))
        elif st.total and st.done >= st.total:
            self._finish(st, now)
        elif now - st.last_line >= self.interval:
            self._emit(st, now)

    def close(self) -> None:
        """Finish every stage: bars are completed and stopped; plain mode prints each stage's last line."""
        now = self.clock()
        for st in self.stages.values():
            if self._bars is not None:
                self._bars.update(st.task_id, completed=st.done, rate=self._rate_text(st, now))
            elif not st.finished:
                self._finish(st, now)
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def line(self, name: str) -> str:
        """The plain status line of a stage: done/total, percent, rate, elapsed and ETA."""
        st = self.stages[name]
        return self._line(st, self.clock())

    def _rate(self, st: _Stage, now: float) -> float:
        elapsed, worked = now - st.started, st.done - st.skipped
        return worked / elapsed if worked > 0 and elapsed > 0 else 0.0

    def _rate_text(self, st: _Stage, now: float) -> str:
        rate = self._rate(st, now)
        return f"{rate:.1f} {self.unit}/s" if rate else ""

    def _line(self, st: _Stage, now: float) -> str:
        rate = self._rate(st, now)
        parts = [f"{st.name}: {st.done}/{st.total} {self.unit}" if st.total else f"{st.name}: {st.done} {self.unit}"]
        if st.total:
            parts.append(f"{100 * st.done / st.total:.0f}%")
        if rate:
            parts.append(f"{rate:.1f} {self.unit}/s")
        parts.append(f"elapsed {_seconds(now - st.started)}")
        if st.total and st.done < st.total:
            parts.append(f"ETA {_seconds((st.total - st.done) / rate)}" if rate else "ETA ?")
        return ", ".join(parts)

    def _emit(self, st: _Stage, now: float) -> None:
        st.last_line, st.last_done = now, st.done
        text = "progress " + self._line(st, now)
        if self.log is not None:
            self.log(text)
        else:
            print(text, file=self.stream, flush=True)

    def _finish(self, st: _Stage, now: float) -> None:
        st.finished = True
        if st.last_done != st.done:
            self._emit(st, now)
