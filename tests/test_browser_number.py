"""Number mode in Chromium: a held-out writer's digits written one stroke at a time on the wide canvas, with pauses,
are read as the whole number, with a box round each digit; Save checks the typed number against what was read."""

import re

import pytest

from mnist_app.data.pendigits import placed
from mnist_app.store.drawings import DrawingStore
from mnist_app.ui.number import WIDTH
from mnist_app.ui.sketchpad import SIDE

from scaffold import (
    canvas_box,
    choose_mode,
    chromium,
    draw,
    numpy_model_only,
    readable_digits,
    settle,
    still_page,
    streamlit_server,
)

pytestmark = pytest.mark.browser
NUMBER = (4, 0, 7)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("number")
    env = numpy_model_only(folder)  # its visitors read with the NumPy network, the Draw page's first choice
    with streamlit_server(folder / "streamlit.log", env) as (url, _), chromium() as browser:
        yield url, browser, folder


def number_strokes(digits) -> list:
    """The digits 150 px tall, side by side with a gap of 40 px, in the canvas's pixels."""
    strokes, left = [], 30.0
    for digit in digits:
        drawn = placed(digit, 150.0, left, 140.0)
        strokes += drawn
        left = max(s[:, 0].max() for s in drawn) + 40.0
    return strokes


def number_mode(browser, url: str, viewport: dict):
    """A new visitor's Draw page at `viewport`, switched to Number mode and settled: (context, page)."""
    page = still_page(browser, viewport)
    context = page.context
    page.set_default_timeout(90_000)
    page.goto(url)
    page.get_by_text("Draw a digit (0-9)").first.wait_for()
    choose_mode(page, "Number")
    page.get_by_role("heading", name="Write a number").wait_for()
    settle(page)  # the Digit mode's elements gone: a busy page showed them above the new canvas for a while
    return context, page


def test_a_number_written_stroke_by_stroke_is_read_whole_and_its_digits_saved(server):
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    url, browser, folder = server
    digits = readable_digits(("numpy-mlp",))
    context, page = number_mode(browser, url, {"width": 1280, "height": 1000})
    box = canvas_box(page)
    assert box["width"] >= 600  # room for six digits or more
    for stroke in number_strokes([digits[d][0] for d in NUMBER]):
        draw(page, box, [stroke])
        settle(page, 300)
        assert abs(canvas_box(page)["y"] - box["y"]) <= 2  # the canvas holds still between strokes
    settle(page)
    expect(page.get_by_role("heading", name="Number: 407")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Numbered as read"))).to_be_visible()  # the drawing with its boxes

    page.get_by_label("The number you wrote").fill("47")
    page.get_by_role("button", name="Save its digits").click()
    expect(page.get_by_text("You typed 2 digits and 3 were found")).to_be_visible()
    page.get_by_label("The number you wrote").fill("407")
    page.get_by_role("button", name="Save its digits").click()
    expect(page.get_by_text("Saved 3 digits, each under its label")).to_be_visible()
    context.close()
    store = DrawingStore(f"sqlite:///{folder / 'drawings.sqlite'}")
    saved = store.dataset()
    assert sorted(saved.labels.tolist()) == sorted(NUMBER)  # each digit under its own label
    digits = store.fetch(saved.ids.tolist())  # ... with its place in the number, the number shared
    assert sorted((d.place, d.label) for d in digits) == list(enumerate(NUMBER, 1))
    assert len({d.number for d in digits}) == 1 and digits[0].number


def test_on_a_phone_the_wide_canvas_fits_the_screen_and_a_number_written_on_it_is_read(server):
    """390 px wide: the Number canvas is shown whole, shrunk to the column, with nothing to scroll sideways; a number
    written across it, stroke by stroke, is read as on a desktop (the canvas keeps its own pixels)."""
    from playwright.sync_api import expect

    url, browser, _ = server
    digits = readable_digits(("numpy-mlp",))
    context, page = number_mode(browser, url, {"width": 390, "height": 844})
    box = canvas_box(page)
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box  # all of it on the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing to scroll sideways
    assert box["width"] / box["height"] == pytest.approx(WIDTH / SIDE, rel=0.02)  # shrunk, not cut
    shrink = box["width"] / WIDTH
    for stroke in number_strokes([digits[d][0] for d in NUMBER]):
        draw(page, box, [stroke * shrink])
        settle(page, 300)
        assert abs(canvas_box(page)["y"] - box["y"]) <= 2
    settle(page)
    expect(page.get_by_role("heading", name="Number: 407")).to_be_visible(timeout=60_000)
    context.close()
