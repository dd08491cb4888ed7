"""Virtual time for asyncio tests: an event loop whose clock moves only when every task
is blocked, and then jumps straight to the next timer.

`await asyncio.sleep(5)` on it returns at once in real time, yet only after everything
that was due in those 5 virtual seconds has run: a queue's timers fire at exact virtual
moments, timestamps taken with `loop.time()` are exact, and after a sleep nothing that
should have happened meanwhile can still be pending, however slow the machine. Code under
test reads the time through `loop.time` (e.g. `Outbox(..., clock=loop.time)`).

Only for code that does not wait on real I/O: time jumps whenever nothing is ready, so a
socket's answer would arrive virtual hours late. Work handed to a thread still wakes the
loop; if nothing at all can wake it, `run` fails instead of hanging.

    def test_something():
        run(scenario())           # or decorate an `async def` test with @in_virtual_time
"""

from __future__ import annotations

import asyncio
import functools
import selectors
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

STUCK_AFTER = 10.0  # real seconds with no timer, no ready task and no I/O: a deadlock


class _VirtualSelector(selectors.DefaultSelector):
    """Polls without blocking; where the loop would sleep until its next timer, moves the
    virtual clock forward by that much instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None):
        events = super().select(0)
        if events or (timeout is not None and timeout <= 0):
            return events
        if timeout is None:  # no timer: only another thread can still wake the loop
            events = super().select(STUCK_AFTER)
            if not events:
                raise RuntimeError(f"virtual time: every task is blocked and no timer is set ({STUCK_AFTER:g} s)")
            return events
        self.now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._virtual = _VirtualSelector()
        super().__init__(self._virtual)

    def time(self) -> float:
        return self._virtual.now


def run(awaitable: Awaitable[T]) -> T:
    """Run a coroutine to completion on a fresh loop in virtual time (starting at 0.0)."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(awaitable)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def in_virtual_time(test: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """An `async def` test run by `run` (a plain function to pytest; fixtures still work)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return run(test(*args, **kwargs))

    return wrapper
