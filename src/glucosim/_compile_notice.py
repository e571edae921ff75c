"""One line on stderr while numba compiles glucosim's model core: a fresh install's first run, or after a model change.

The first run after an install compiles the core for about a minute and a half of CPU; before this notice it printed
nothing. A warm cache loads the compiled core in ~1.5 s without compiling anything, and prints nothing: numba
announces each compilation (a cache miss, never a cache load) with its ``numba:compile`` event, and the notice is
printed once, when one compilation has gone on for ``NOTICE_AFTER_S`` seconds (a short compilation, such as a small
kernel compiled on every start, stays silent). The timer is a thread that ends, and is joined, when the compilation
ends: the sweep's fork server (``glucosim.sweep.preload``) must hold no thread when it forks its workers.

One line per command: a process that has printed it says so in its environment (``NOTICE_SHOWN_VARIABLE``), which
the processes it starts afterwards inherit (``glucosim sweep`` compiles the integrator while loading the sweep file,
then its fork server compiles the rest), and they stay silent.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

from numba.core import event

COMPILE_NOTICE = "compiling glucosim's model core (first run after an install or a model change; about 1-2 minutes)..."
NOTICE_AFTER_S = 3.0
"""A compilation that lasts this long prints the notice (a cache load, ~1.5 s, compiles nothing)."""
NOTICE_SHOWN_VARIABLE = "GLUCOSIM_COMPILE_NOTICE_SHOWN"
"""Set to "1" once the notice is printed; a process started with it set does not print it again."""
COMPILE_EVENT = "numba:compile"
"""numba's event around each compilation (``numba.core.event``); cache loads do not trigger it."""


class CompileNotice(event.Listener):
    """Prints ``message`` to ``stream`` once, when a compilation has lasted ``after_s`` seconds (a numba event
    listener: ``on_start`` and ``on_end`` are called around each compilation, nested for the functions it calls)."""

    def __init__(self, after_s: float | None = None, stream: TextIO | None = None, message: str = COMPILE_NOTICE):
        self.after_s = NOTICE_AFTER_S if after_s is None else after_s
        self.stream = stream if stream is not None else sys.stderr  # the stream at install time (tests capture it)
        self.message = message
        self.printed = os.environ.get(NOTICE_SHOWN_VARIABLE) == "1"  # a parent process printed it already
        self._depth = 0
        self._timer: threading.Timer | None = None
        self._started_s = 0.0

    def _print(self) -> None:
        if not self.printed:
            self.printed = True
            print(self.message, file=self.stream, flush=True)

    def on_start(self, _event) -> None:
        self._depth += 1
        if self._depth == 1 and not self.printed:
            self._started_s = time.monotonic()
            self._timer = threading.Timer(self.after_s, self._print)
            self._timer.daemon = True
            self._timer.start()

    def on_end(self, _event) -> None:
        self._depth = max(self._depth - 1, 0)
        if self._depth == 0:
            self.stop()

    def stop(self) -> None:
        """End the timer thread (and wait for it), so the process holds no thread of ours; once printed, say so to the
        processes started from now on (set here, in the compiling thread, not in the timer's)."""
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            timer.join()
        if self.printed:
            os.environ[NOTICE_SHOWN_VARIABLE] = "1"


@contextlib.contextmanager
def compile_notice(
    after_s: float | None = None, stream: TextIO | None = None, message: str = COMPILE_NOTICE
) -> Iterator[CompileNotice]:
    """Within the block, print ``message`` once if numba compiles for ``after_s`` seconds (default ``NOTICE_AFTER_S``;
    see the module)."""
    notice = CompileNotice(after_s, stream, message)
    event.register(COMPILE_EVENT, notice)
    try:
        yield notice
    finally:
        event.unregister(COMPILE_EVENT, notice)
        notice.stop()
