"""The Draw page in Debian's Chromium against `streamlit run app.py`, at 1280x800 (issue 24, the Draw page):

- how long "Explain this reading" takes, from the click until its pictures are on screen and loaded, for each
  shipped model (goal: <= 0.6 s), once the page has been up long enough for the models to have loaded;
- whether the Compare and Explain toggles are on screen without scrolling once a digit is drawn.

    MNIST_DATA=../shared/mnist python benchmarks/draw_page.py   # writes benchmarks/results/draw_page.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mnist_app import models
from mnist_app.artifacts import write_json

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test scaffolding lives with the tests
from scaffold import (
    canvas_box,
    canvas_strokes,
    choose_model,
    chromium,
    draw,
    explain_seconds,
    readable_digits,
    settle,
    streamlit_server,
)

RESULTS = Path(__file__).resolve().parent / "results" / "draw_page.json"
SCREEN = {"width": 1280, "height": 800}
PICTURES = {"keras-mlp": 2}  # pictures an explanation shows, 3 unless named: the Keras MLP has no convolution to show
GOAL_S = 0.6


def measure(clicks: int, wait_s: float) -> dict:
    """Open and close the explanation `clicks` times per model on one drawn digit; where the toggles are."""
    six = readable_digits(models.SHIPPED)[6][0]
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp) / "server.log") as (url, _):
        with chromium() as browser:
            page = browser.new_page(viewport=SCREEN)
            page.set_default_timeout(120_000)
            page.goto(url)
            page.get_by_text("Draw a digit (0-9)").wait_for()
            time.sleep(wait_s)  # a person draws for a while first: the models load meanwhile
            draw(page, canvas_box(page), canvas_strokes(six))
            settle(page)
            results = {"toggles' lowest edge at 1280x800 (px)": lowest_edge(page)}
            for name in models.SHIPPED:
                choose_model(page, models.label_of(name))
                page.get_by_text(f"· {models.label_of(name)}").wait_for()
                settle(page)
                results[name] = [explain_seconds(page, PICTURES.get(name, 3)) for _ in range(clicks)]
    return results


def lowest_edge(page) -> float:
    """The bottom of the lower of the Compare and Explain toggles, in pixels from the top of the window."""
    toggles = [page.get_by_text(t) for t in ("Compare every model on this drawing", "Explain this reading")]
    return max(box["y"] + box["height"] for box in (t.bounding_box() for t in toggles))


def report(results: dict) -> str:
    rows = ["| model | first click (s) | median (s) | slowest (s) | goal |", "| --- | --- | --- | --- | --- |"]
    for name in models.SHIPPED:
        times = results[name]
        rows.append(f"| {name} | {times[0]:.2f} | {np.median(times):.2f} | {max(times):.2f} | <= {GOAL_S} s |")
    edge = results["toggles' lowest edge at 1280x800 (px)"]
    return "\n".join(rows) + f"\n\nCompare and Explain toggles end {edge:.0f} px down a {SCREEN['height']} px window."


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=5, help="explanations opened per model (default 5)")
    parser.add_argument("--wait", type=float, default=30.0, help="seconds the page is up before drawing (default 30)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"where to write the results (default {RESULTS})")
    args = parser.parse_args(argv)
    results = measure(args.clicks, args.wait)
    write_json(args.out, results)
    print(report(results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
