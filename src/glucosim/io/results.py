"""Write a SimulationResult to a directory."""

import json
from pathlib import Path

SUMMARY_FILE = "summary.json"
DAILY_FILE = "daily.csv"
YEARLY_FILE = "yearly.csv"
PROGRESSION_FIGURE = "progression.png"
DAY_FIGURE = "day.png"
SCENARIO_COPY = "scenario.toml"
CLINIC_FILE = "clinic_samples.csv"


def write_result(result, out_dir: Path, figures: bool = True) -> dict[str, Path]:
    """Write summary.json, daily.csv, yearly.csv, a copy of the scenario and (optionally) figures.

    Returns:
        name -> path of each file written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "summary": out_dir / SUMMARY_FILE,
        "daily": out_dir / DAILY_FILE,
        "yearly": out_dir / YEARLY_FILE,
        "scenario": out_dir / SCENARIO_COPY,
    }
    paths["summary"].write_text(json.dumps(result.summary, indent=2) + "\n")
    result.daily.to_csv(paths["daily"], index=False, float_format="%.6g")
    result.yearly.to_csv(paths["yearly"], index=False, float_format="%.6g")
    paths["scenario"].write_text(result.loaded.text)
    if result.clinic:
        import pandas as pd

        frames = [visit.samples.assign(protocol=visit.protocol.protocol.name, day=visit.day) for visit in result.clinic]
        paths["clinic"] = out_dir / CLINIC_FILE
        pd.concat(frames, ignore_index=True).to_csv(paths["clinic"], index=False, float_format="%.6g")
    if figures:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        for key, name, draw in (
            ("progression_figure", PROGRESSION_FIGURE, result.plot_progression),
            ("day_figure", DAY_FIGURE, result.plot_day),
        ):
            figure = draw()
            paths[key] = out_dir / name
            figure.savefig(paths[key])
            plt.close(figure)
    return paths
