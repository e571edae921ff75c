"""The built wheel is self-contained: installed (not editable) in a fresh venv, it runs from an empty folder.

The venv gets only the wheel; its dependencies come from this interpreter's
site-packages through a ``.pth`` file, so the test needs no network and no
dependency resolution (a minute or two, mostly numba compiling in the new
location).
"""

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_and_runs_from_an_empty_folder(tmp_path):
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(REPO)],
        check=True,
        timeout=600,
    )
    (wheel,) = wheel_dir.glob("glucosim-*.whl")
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for data in (
        "glucosim/models/parameters.toml",
        "glucosim/protocols/ogtt_75g.toml",
        "glucosim/scenarios/03_insulin_resistance_low_reserve.toml",
        "glucosim/scenarios/sweeps/prediabetes_lifestyle.toml",
        "glucosim/models/cohorts/prediabetic.toml",
        "glucosim/validation/data/cases/progression_shape.toml",
        "glucosim/validation/data/published/bergman1981_ivgtt_lean.toml",
        # the course targets and the population's: `glucosim validation` reports the held-out course targets, so a
        # wheel without them wrote a page short of them
        "glucosim/validation/data/course/beta_cell_decline.toml",
        "glucosim/validation/data/targets/population/dpp.toml",
    ):
        assert data in names, data

    venv = tmp_path / "venv"
    # a clean environment: no PYTHONPATH pointing at a source tree
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "MPLBACKEND": "Agg"}
    # no pip of its own: seeding one (ensurepip) took 4-5 s of CPU, 7 s on the loaded machine; this interpreter's pip
    # installs into it instead (--python), still pip installing the wheel into a fresh venv
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300, env=env)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        timeout=300,
        env=env,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.strip()
    # the dependencies (numpy, numba, ...) from this interpreter; glucosim itself from the venv, which comes first
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    empty = tmp_path / "empty"
    empty.mkdir()

    def glucosim(*arguments):
        return subprocess.run(
            [str(venv / "bin" / "glucosim"), *arguments],
            cwd=empty,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    where = subprocess.run(
        [str(python), "-c", "import glucosim; print(glucosim.__file__)"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr

    listing = glucosim("scenarios")
    assert listing.returncode == 0 and "03_insulin_resistance_low_reserve" in listing.stdout, listing.stderr
    run = glucosim("run", "01_healthy_baseline", "--set", "duration_days=3", "--no-figures", "--out", "out")
    assert run.returncode == 0, run.stderr
    assert (empty / "out" / "summary.json").is_file()
    made = glucosim("figure", "progression", "--set", "duration_years=1", "--out", "figures/progression.png")
    assert made.returncode == 0, made.stderr
    assert (empty / "figures" / "progression.png").stat().st_size > 10_000
    assert sorted(path.name for path in empty.iterdir()) == ["figures", "out"]  # nothing written elsewhere
