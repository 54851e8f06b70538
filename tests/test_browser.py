"""End to end: a real Streamlit server, Debian's Chromium, real pen-written digits drawn with the mouse."""

from pathlib import Path

import pytest

from mnist_app import models
from tests.browser import canvas_box, canvas_strokes, chromium, clear, draw, readable_digits, streamlit_server
from tests.conftest import ROOT

pytestmark = pytest.mark.browser
SCREENSHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module", autouse=True)
def patient_expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # a Streamlit rerun on a loaded 2-core machine can take seconds


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with streamlit_server(log) as (url, _), chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_text("Draw a digit (0-9)").wait_for()
        yield page


def wait_for_images(page):
    """Every image on the page decoded, so a screenshot shows them."""
    page.wait_for_function("[...document.images].every(img => img.complete && img.naturalWidth > 0)")


def test_every_digit_drawn_with_the_mouse_is_read(page):
    from playwright.sync_api import expect

    digits = readable_digits(("numpy-mlp",))
    for label, (digit,) in digits.items():
        draw(page, canvas_box(page), canvas_strokes(digit))
        try:
            expect(page.get_by_text(f"Prediction: {label}", exact=True)).to_be_visible()
        except AssertionError:
            page.screenshot(path=ROOT / ".pytest_cache" / f"misread-{label}.png")  # what the page showed
            raise
        clear(page)


def test_a_drawing_shows_probabilities_and_what_the_model_sees(page):
    from playwright.sync_api import expect

    digit = readable_digits(models.SHIPPED)[3][0]
    draw(page, canvas_box(page), canvas_strokes(digit))
    expect(page.get_by_text("Prediction: 3", exact=True)).to_be_visible()
    expect(page.locator("[data-testid='stVegaLiteChart']")).to_be_visible()  # the ten probabilities
    expect(page.get_by_text("What the model sees")).to_be_visible()
    wait_for_images(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "draw.png", full_page=True)


def test_switching_model_reads_the_same_drawing_again(page):
    from playwright.sync_api import expect

    for name in ("keras-cnn", "keras-mlp"):
        page.get_by_text(models.label_of(name), exact=True).click()
        expect(page.get_by_text(models.label_of(name), exact=False).last).to_be_visible()
        expect(page.get_by_text("Prediction: 3", exact=True)).to_be_visible()
        expect(page.get_by_text(f"· {models.label_of(name)}")).to_be_visible()


def test_every_model_side_by_side(page):
    from playwright.sync_api import expect

    page.get_by_text("Compare every model on this drawing").click()
    table = page.locator("[data-testid='stDataFrame']")
    expect(table).to_be_visible()
    page.get_by_text("Compare every model on this drawing").click()  # off again, for the next tests


def test_clear_empties_the_canvas(page):
    from playwright.sync_api import expect

    clear(page)
    expect(page.get_by_text("Prediction:")).to_have_count(0)


def test_diagnostics_page_shows_plots_and_tables(page):
    from playwright.sync_api import expect

    page.get_by_role("link", name="Diagnostics").click()
    expect(page.get_by_role("heading", name="Diagnostics")).to_be_visible()
    expect(page.get_by_text("MNIST test accuracy")).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()
    expect(page.locator("[data-testid='stImage'] img")).to_have_count(4)  # curves, matrix, mistakes, comparison
    expect(page.get_by_text(" read as ").first).to_be_visible()
    wait_for_images(page)
    page.screenshot(path=SCREENSHOTS / "diagnostics.png", full_page=True)
    assert Path(SCREENSHOTS / "diagnostics.png").stat().st_size > 10_000


def settled_reading(page, quiet_s: float = 2.0, limit_s: float = 60.0) -> str:
    """The Draw page's reading once it stops changing: the app reads after every stroke, so a reading taken
    right after the last stroke may still be the previous stroke's."""
    import time

    def snapshot() -> str:
        return page.locator("body").inner_text()  # the reading, the unsure message and Streamlit's "Running"

    last, since, deadline = snapshot(), time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = snapshot()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s and "Prediction:" in now:
            return now
    raise AssertionError(f"the page never settled: {last}")


def test_held_out_fours_drawn_with_the_mouse_are_read_or_flagged_once_the_page_settles(page):
    from mnist_app import pendigits

    page.goto(page.url.rsplit("/", 1)[0] + "/")  # the Draw page, wherever an earlier test left the browser
    page.get_by_text("Draw a digit (0-9)").wait_for()
    page.get_by_text("NumPy MLP (from scratch)").click()
    fours = [d for d in pendigits.select_writers(pendigits.load(), "heldout") if d.label == 4][:3]
    assert len(fours) == 3
    for four in fours:  # the three misread 4s were the first held-out 4s drawn with the mouse
        draw(page, canvas_box(page), canvas_strokes(four))
        reading = settled_reading(page)
        assert "Prediction: 4" in reading or "perhaps 4 (" in reading, reading
        clear(page)
