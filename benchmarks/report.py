"""Print the speed table: glucosim's core against scipy on the same model, plus import and compile times.

    python benchmarks/report.py

Each timing is the best of several runs in this process (the integrator is
compiled before timing); cold compile and import are measured in fresh
processes. Run on an otherwise idle machine.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import Workload  # noqa: E402

from glucosim.physiology.model import rhs  # noqa: E402
from glucosim.solver.kernel import DEFAULT_RTOL, default_atol  # noqa: E402
from glucosim.solver.scipy_backend import integrate_schedule_scipy  # noqa: E402
from glucosim.solver.segments import integrate_schedule  # noqa: E402


def best_of(function, repeats: int) -> float:
    """Smallest wall time of ``repeats`` calls, seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def fresh_process_seconds(code: str, env: dict | None = None) -> float:
    """Wall time of ``python -c code`` in a new process."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def main():
    day = Workload(days=1, output_step_min=1.0)
    ours = lambda: integrate_schedule(day.integrator, day.schedule, day.y0, day.params, day.t_out, day.tolerances, day.names)  # noqa: E731
    stats = ours().stats
    t_ours = best_of(ours, 50)
    scipy = {}
    for method, repeats in (("LSODA", 3), ("RK45", 2)):
        scipy[method] = best_of(lambda m=method: integrate_schedule_scipy(
            rhs, day.schedule, day.y0, day.params, day.t_out, method=m, rtol=DEFAULT_RTOL, atol=default_atol()), repeats)

    year = Workload(days=365, output_step_min=5.0)
    t_year = best_of(lambda: integrate_schedule(year.integrator, year.schedule, year.y0, year.params, year.t_out,
                                                year.tolerances, year.names), 3)

    with tempfile.TemporaryDirectory() as cache:
        # numba compiles on the first call: integrate the one-day workload once
        compile_code = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
                        "from conftest import Workload; Workload(days=1, output_step_min=5.0)")
        cold = fresh_process_seconds(compile_code, {"NUMBA_CACHE_DIR": cache})
    import_time = min(fresh_process_seconds("import glucosim") for _ in range(3))

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"workload: one day, 3 meals + 45 min exercise, outputs every minute, rtol {DEFAULT_RTOL:g}")
    print(f"  glucosim dopri5 (numba loop)        {t_ours * 1e3:9.2f} ms   ({stats.rhs_evaluations} rhs evaluations)")
    for method, seconds in scipy.items():
        print(f"  scipy solve_ivp {method:5s} (numba rhs) {seconds * 1e3:9.2f} ms   ratio {seconds / t_ours:6.1f}x")
    print(f"progression: one year, every meal resolved, 5-min outputs: {t_year:.2f} s "
          f"= {1.0 / t_year:.2f} patient-years/s (one core); 20 years ~ {20 * t_year:.1f} s")
    print(f"cold start: import glucosim {import_time:.2f} s (fresh process, incl. interpreter); "
          f"first compile with empty cache {cold:.1f} s (fresh process, incl. imports)")


if __name__ == "__main__":
    main()
