"""What the local sweep workers' fork server loads once, before it forks any worker (``backends.LocalPool``).

A spawned worker paid its own start: importing glucosim, numpy, pandas and scipy (~1 s of CPU) and initialising
numba and loading the compiled core from its disk cache (1.3-1.5 s), once per worker and again for each worker
started after one died. The local pool's workers are instead forked from multiprocessing's fork server, which
imports this module once: the import warms it (``warm_up``) and every worker forked from it starts with all of that
done. The server is a fresh interpreter, started with ``-c`` and not forked from the sweep process, and stays
single-threaded through the warm-up (no numba threading layer is started: no kernel here is parallel; the BLAS
libraries load with one thread; the compile notice's timer thread is joined), so its forks are safe where a fork of
the sweep process (numba, tqdm's and the user's threads) would not be.

Importing this module runs the warm-up: import it only where that is wanted (the fork server).
"""

from __future__ import annotations

import os

from glucosim._threads import single_blas_thread_environment

ARROW_JEMALLOC_CONF = ("JE_ARROW_MALLOC_CONF", "background_thread:false")
"""pyarrow (which pandas imports) starts jemalloc's background purging thread when it loads, unless told not to:
the server would hold it when it forks (measured: the server's threads were 'python' and 'jemalloc_bg_thd')."""

# before numpy and pyarrow load: a worker runs one model at a time, one per core; BLAS threads would only compete, and
# a BLAS or jemalloc thread in the server would be a thread at fork time. Variables the user has set are kept.
single_blas_thread_environment()
os.environ.setdefault(*ARROW_JEMALLOC_CONF)

WARM_UP_SCENARIO = "03_insulin_resistance_low_reserve"
"""A shipped scenario whose short run calls every compiled kernel a sweep's runs and screening call."""
WARM_UP_DAYS = 40
"""Days of its envelope-following run: enough for the envelope's kernels (relaxation rates, offset bias) to run."""


def warm_up() -> None:
    """Import what a worker imports and load (or, on a cold cache, compile once) every compiled kernel a sweep calls:
    the initial state's warm-ups, envelope following and a screening's OGTT, by a short run of a shipped scenario.

    A failure is left to the workers, which meet it again and record it with the run it concerns: the warm-up only
    saves them time. Ctrl-C is ignored meanwhile (the sweep process handles it; the server then ends with it).
    """
    import signal

    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: leave the handler
        previous = None
    try:
        import glucosim.sweep.screening  # noqa: F401 - what a screening worker unpickles
        import glucosim.sweep.worker  # noqa: F401 - what a run worker unpickles
        from glucosim._compile_notice import compile_notice
        from glucosim._resources import shipped_scenarios
        from glucosim.scenario.load import load_scenario
        from glucosim.simulation.run import simulate
        from glucosim.sweep.screening import screening_ogtt

        with compile_notice():
            scenario = load_scenario(shipped_scenarios()[WARM_UP_SCENARIO])
            result = simulate(scenario, until_day=WARM_UP_DAYS, resolution="envelope", progress=False)
            screening_ogtt(scenario, state=result.initial_state)
    except Exception:  # noqa: BLE001 - see the docstring: the workers report it where it matters
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


warm_up()
