"""The chat limit counted in this process (forum.chat.ratelimit.LocalWindows): the sliding-window
counter that stands in for the shared store when there is none or it is away."""

from __future__ import annotations

from limits import parse

from forum.chat import ratelimit
from forum.chat.ratelimit import LocalWindows

FIVE_IN_TEN = parse("5 per 10 seconds")


def hits(windows: LocalWindows, key: str, times: list[float]) -> list[bool]:
    return [windows.hit(FIVE_IN_TEN, key, now=t) for t in times]


def test_five_in_ten_seconds_then_refused_and_the_refusal_counts_nothing() -> None:
    windows = LocalWindows()
    assert hits(windows, "a", [1000.0, 1000.1, 1000.2, 1000.3, 1000.4]) == [True] * 5
    assert hits(windows, "a", [1000.5, 1001.0, 1009.0]) == [False] * 3
    assert hits(windows, "b", [1000.5]) == [True]  # per key


def test_no_double_burst_at_a_window_edge() -> None:
    windows = LocalWindows()
    assert hits(windows, "a", [1009.9] * 5) == [True] * 5  # the end of one fixed window
    # Just past the edge the previous window still weighs 5 x 9.9/10: nothing more yet.
    assert hits(windows, "a", [1010.1]) == [False]
    # Half way through, it weighs 2.5: two more fit, a third does not.
    assert hits(windows, "a", [1015.0, 1015.0, 1015.0]) == [True, True, False]
    # Two windows on, the old hits no longer count at all.
    assert hits(windows, "a", [1030.0] * 6) == [True] * 5 + [False]


def test_counters_of_finished_windows_are_dropped_when_many_keys_pile_up(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ratelimit, "SWEEP_ABOVE", 10)
    windows = LocalWindows()
    for n in range(10):
        windows.hit(FIVE_IN_TEN, f"old-{n}", now=1000.0)
    windows.hit(FIVE_IN_TEN, "new", now=1100.0)
    assert set(windows._counts) == {"new"}
    assert hits(windows, "old-0", [1100.0] * 5) == [True] * 5  # a dropped key starts afresh
