"""The one-line notice while numba compiles the model core (a fresh install's first run: minutes of silence before).

No real cold compile here: a compilation is injected as numba announces one (its ``numba:compile`` event) around
a loader that is slow until the notice has been printed.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from numba.core import event

import glucosim._compile_notice as notice_module
from glucosim._compile_notice import COMPILE_EVENT, COMPILE_NOTICE, NOTICE_SHOWN_VARIABLE, compile_notice
from glucosim.cli import main

REPO = Path(__file__).resolve().parent.parent
WAIT_S = 30.0
"""Longest an injected compilation waits for the notice (it ends as soon as the notice is printed)."""


@pytest.fixture(autouse=True)
def _no_notice_shown_yet(monkeypatch):
    """Each test starts as a fresh command (no parent printed the notice); the variable a test sets is undone."""
    monkeypatch.setenv(NOTICE_SHOWN_VARIABLE, "0")


def _slow_compile(stream: io.StringIO | None = None, printed: threading.Event | None = None) -> None:
    """A compilation, as numba announces one, lasting until the notice is printed (or WAIT_S)."""
    with event.trigger_event(COMPILE_EVENT, data={}):
        with event.trigger_event(COMPILE_EVENT, data={}):  # nested, as a kernel's callees compile inside it
            if printed is not None:
                printed.wait(WAIT_S)


class _Watched(io.StringIO):
    """A stream that says when something was written to it."""

    def __init__(self):
        super().__init__()
        self.written = threading.Event()

    def write(self, text):
        count = super().write(text)
        self.written.set()
        return count


def test_a_long_compilation_prints_the_notice_once(monkeypatch):
    monkeypatch.delenv(NOTICE_SHOWN_VARIABLE, raising=False)  # and restored afterwards: the notice sets it
    stream = _Watched()
    with compile_notice(after_s=0.05, stream=stream) as notice:
        _slow_compile(printed=stream.written)
        _slow_compile(printed=None)  # a second compilation: no second line
    assert notice.printed and stream.getvalue() == COMPILE_NOTICE + "\n"
    # processes started from now on (a sweep's fork server, after the command compiled while loading the sweep) inherit
    # that it was printed, and stay silent
    assert os.environ[NOTICE_SHOWN_VARIABLE] == "1"
    child_stream = _Watched()
    with compile_notice(after_s=0.05, stream=child_stream):
        with event.trigger_event(COMPILE_EVENT, data={}):
            child_stream.written.wait(0.5)
    assert child_stream.getvalue() == ""


def test_a_short_compilation_prints_nothing_and_leaves_no_thread():
    stream = io.StringIO()
    threads_before = threading.active_count()
    with compile_notice(after_s=60.0, stream=stream) as notice:
        _slow_compile()
    assert not notice.printed and stream.getvalue() == ""
    assert threading.active_count() == threads_before  # the timer was cancelled and joined
    assert notice not in event._registered[COMPILE_EVENT]  # noqa: SLF001 - unregistered when the block ends


COUNT_COMPILATIONS = """
from numba.core import event
from glucosim._compile_notice import COMPILE_EVENT
compiled = []
class Count(event.Listener):
    def on_start(self, e):
        compiled.append(e)
    def on_end(self, e):
        pass
event.register(COMPILE_EVENT, Count())
import glucosim
glucosim.simulate("03_insulin_resistance_low_reserve", progress=False)
print(len(compiled))
"""


def test_a_warm_start_compiles_nothing_so_prints_nothing():
    # a fresh process loading the core from numba's cache (this test run has loaded it: the cache is warm):
    # no compilation event at all, so the notice cannot be printed, however slow the machine
    import glucosim

    glucosim.simulate("03_insulin_resistance_low_reserve", progress=False, until_day=1)  # warm the cache
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}  # numba's cache where this run's is (NUMBA_CACHE_DIR, HOME)
    out = subprocess.run(
        [sys.executable, "-c", COUNT_COMPILATIONS], capture_output=True, text=True, env=env, check=True, cwd=REPO
    )
    assert out.stdout.strip().splitlines()[-1] == "0"


def test_glucosim_run_says_so_while_the_core_compiles_and_not_when_it_is_cached(tmp_path, monkeypatch):
    import glucosim.api

    real = glucosim.api.simulate
    printed = threading.Event()

    def compiling_first(*args, **kwargs):  # the slow loader: this run compiles first
        _slow_compile(printed=printed)
        return real(*args, **kwargs)

    monkeypatch.setattr(notice_module, "NOTICE_AFTER_S", 0.05)
    monkeypatch.setattr(notice_module.CompileNotice, "_print", _print_and_signal(printed))
    monkeypatch.setattr(glucosim.api, "simulate", compiling_first)
    args = ["run", "01_healthy_baseline", "--set", "duration_days=2", "--no-figures", "--out"]
    cold = CliRunner().invoke(main, [*args, str(tmp_path / "cold")])
    assert cold.exit_code == 0, cold.output
    assert cold.stderr.count(COMPILE_NOTICE) == 1 and COMPILE_NOTICE not in cold.stdout
    monkeypatch.setattr(glucosim.api, "simulate", real)
    warm = CliRunner().invoke(main, [*args, str(tmp_path / "warm")])
    assert warm.exit_code == 0, warm.output
    assert COMPILE_NOTICE not in warm.output


def _print_and_signal(printed: threading.Event):
    original = notice_module.CompileNotice._print

    def _print(self):
        original(self)
        printed.set()

    return _print
