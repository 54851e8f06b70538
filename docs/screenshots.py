"""Retake the README's screenshots (docs/screenshots/*.png) from a real server and Debian's Chromium.

    python docs/screenshots.py

Tests never write into the work tree; this is the one command that refreshes these pictures.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from mnist_app import models

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test scaffolding lives with the tests
from scaffold import canvas_box, canvas_strokes, chromium, draw, readable_digits, settle, streamlit_server

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def wait_for_images(page) -> None:
    """Every image on the page decoded and every chart drawn, so the screenshot shows them."""
    page.wait_for_function("[...document.images].every(img => img.complete && img.naturalWidth > 0)")
    page.wait_for_function(
        "[...document.querySelectorAll(\"[data-testid='stVegaLiteChart']\")].every(c => c.querySelector('canvas, svg'))"
    )


def scratch_store(tmp: str) -> dict[str, str]:
    """Runs trained for the pictures are records of a store of their own, never the user's."""
    return {"MNIST_APP_DB": f"sqlite:///{tmp}/screenshots.sqlite"}


def train(page) -> None:
    """The Train page while the default run trains, then with its results."""
    page.get_by_role("link", name="Train").click()
    page.get_by_text("Set the knobs and press Train").wait_for()
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"Epoch [3-9]/")).wait_for()
    page.screenshot(path=SCREENSHOTS / "train-live.png")
    page.get_by_text(re.compile(r"MNIST test accuracy: ")).wait_for()
    settle(page)
    wait_for_images(page)
    page.screenshot(path=SCREENSHOTS / "train.png")


def main() -> None:
    digit = readable_digits(models.SHIPPED)[3][0]
    with (
        tempfile.TemporaryDirectory() as tmp,
        streamlit_server(Path(tmp) / "server.log", scratch_store(tmp)) as (url, _),
    ):
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(url)
            page.get_by_text("Draw a digit (0-9)").wait_for()
            draw(page, canvas_box(page), canvas_strokes(digit))
            page.get_by_text("Prediction: 3", exact=True).wait_for()
            settle(page)
            wait_for_images(page)
            page.screenshot(path=SCREENSHOTS / "draw.png", full_page=True)
            page.get_by_role("link", name="Diagnostics").click()
            page.get_by_text("MNIST test accuracy").first.wait_for()
            settle(page)
            wait_for_images(page)
            page.screenshot(path=SCREENSHOTS / "diagnostics.png", full_page=True)
            train(page)
    print(f"written: {', '.join(str(p) for p in sorted(SCREENSHOTS.glob('*.png')))}")


if __name__ == "__main__":
    main()
