"""Progress: bars on a terminal, periodic plain lines elsewhere."""

from __future__ import annotations

import io

from newsfacts.progress import Progress


class Clock:
    """A deterministic clock the test advances by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_mode_prints_periodic_lines_with_rate_and_eta():
    out, clock = io.StringIO(), Clock()
    p = Progress(10, stream=out, clock=clock, interval=5.0)
    assert not p.tty
    p.stage("clean")
    for _ in range(10):
        clock.now += 1.0
        p.advance("clean", 1)
    p.stage("entities", total=4)
    clock.now += 2.0
    p.advance("entities", 1)
    p.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "progress clean: 1/10 docs, 10%, 1.0 docs/s, elapsed 0:01, ETA 0:09"
    assert lines[1] == "progress clean: 6/10 docs, 60%, 1.0 docs/s, elapsed 0:06, ETA 0:04"
    assert lines[2] == "progress clean: 10/10 docs, 100%, 1.0 docs/s, elapsed 0:10"
    assert lines[3].startswith("progress entities: 1/4 docs, 25%, 0.5 docs/s")
    assert len(lines) == 4, "a stage's final state is printed once, not repeated by close()"


def test_plain_mode_can_log_through_a_callable_and_counts_without_total():
    seen: list[str] = []
    clock = Clock()
    p = Progress(0, log=seen.append, clock=clock, interval=0)
    p.stage("transform")
    clock.now = 4.0
    p.advance("transform", 8)
    p.close()
    assert seen == ["progress transform: 8 docs, 2.0 docs/s, elapsed 0:04"]


def test_tty_mode_draws_a_bar_per_stage():
    out = io.StringIO()
    with Progress(10, stream=out, tty=True) as p:
        p.stage("clean")
        p.advance("clean", 4)
        p.stage("entities")
        p.advance("entities", 10)
    screen = out.getvalue()
    assert "\x1b[" in screen, "a terminal gets ANSI drawing"
    assert "clean" in screen and "4/10" in screen and "entities" in screen and "10/10" in screen
    assert "docs/s" in screen and "ETA" in screen and "━" in screen


def test_units_known_without_work_make_no_rate():
    """Inputs skipped by their stamp are counted done, but a rate is of real work only."""
    out, clock = io.StringIO(), Clock()
    p = Progress(5, stream=out, clock=clock)
    p.skip("ingest", 5)  # every input known: done at once, no work
    p.start("clean")
    clock.now += 2.0
    p.advance("clean", 5)  # counted after the work, with the clock started before it
    p.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "progress ingest: 5/5 docs, 100%, elapsed 0:00"
    assert lines[1] == "progress clean: 5/5 docs, 100%, 2.5 docs/s, elapsed 0:02"
