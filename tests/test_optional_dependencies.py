"""The quick start needs only the core: without the sweep extra, `glucosim run` works and sweeps say what to install."""

import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

BLOCK_SWEEP_EXTRA = """
import sys
for name in ("SALib", "pyarrow", "lifelines"):
    sys.modules[name] = None  # import raises ImportError, as if not installed
"""


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess:
    program = BLOCK_SWEEP_EXTRA + textwrap.dedent(code)
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-c", program], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_run_works_without_the_sweep_extra_and_sweeps_name_the_extra(tmp_path):
    scenario = tmp_path / "day.toml"
    scenario.write_text(
        'name = "one day"\nduration_days = 1\n[subject]\npreset = "healthy"\n'
        "[routine]\nsleep_h = 8\nmeals = [{ time_h = 7.5, carbs_g = 60 }]\n"
    )
    done = _run(
        f"""
        from click.testing import CliRunner
        from glucosim.cli import main
        result = CliRunner().invoke(main, ["run", {str(scenario)!r}, "--out", "out", "--no-figures"])
        print("RUN", result.exit_code, result.output)
        result = CliRunner().invoke(main, ["analyze", "."])
        print("ANALYZE", result.exit_code, result.output)
        import importlib, pkgutil, glucosim
        for module in pkgutil.walk_packages(glucosim.__path__, "glucosim."):
            importlib.import_module(module.name)  # every module imports without the extra (lazy imports)
        print("IMPORTED ALL")
        for name in ("SALib", "pyarrow", "lifelines"):
            assert sys.modules[name] is None, name  # nothing imported them behind our back
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "RUN 0" in done.stdout and (tmp_path / "out" / "summary.json").is_file()
    assert "ANALYZE 2" in done.stdout and "IMPORTED ALL" in done.stdout
    assert "glucosim analyze needs SALib, pyarrow, lifelines (the 'sweep' extra): pip install" in done.stdout
