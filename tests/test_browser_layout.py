"""The Draw page holds still while a person draws: nothing above the canvas appears, goes or changes height between
one stroke and the next, in every mode, on a desktop and on a phone (web pages call this layout shift: a target
that moves under the pointer costs the person their stroke)."""

import re

import pytest

from mnist_app.data import pendigits

from scaffold import (
    canvas_box,
    canvas_strokes,
    choose_mode,
    chromium,
    draw,
    numpy_model_only,
    require_pen_digits,
    settle,
    still_page,
    streamlit_server,
)

pytestmark = pytest.mark.browser

DESKTOP, PHONE = {"width": 1280, "height": 1000}, {"width": 390, "height": 844}
STILL_PX = 2  # how far the canvas may move between strokes


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layout")
    env = numpy_model_only(folder)  # its visitors draw with the first choice (a model loading: test_browser.py)
    with streamlit_server(folder / "streamlit.log", env) as (url, _), chromium() as browser:
        yield url, browser


@pytest.fixture(scope="module")
def four():
    """A pen 4 written in two strokes, as most people write it: the second stroke is where a jump shows."""
    require_pen_digits()
    tuning = pendigits.select_writers(pendigits.load(), "tuning")
    return next(d for d in tuning if d.label == 4 and len(d.strokes) >= 2)


def open_draw_page(server, viewport: dict, mode: str):
    url, browser = server
    page = still_page(browser, viewport)
    context = page.context
    page.set_default_timeout(90_000)
    page.goto(url)
    page.get_by_text("Draw a digit (0-9)").first.wait_for()
    if mode == "teach":
        choose_mode(page, "Teach")
        page.get_by_role("heading", name=re.compile(r"^Draw a \d$")).wait_for()
    if mode == "number":
        choose_mode(page, "Number")
        page.get_by_role("heading", name="Write a number").wait_for()
    settle(page)
    return context, page


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("mode", ["draw", "number", "teach"])
def test_the_canvas_stays_where_it_was_from_stroke_to_stroke(server, four, viewport, mode):
    context, page = open_draw_page(server, viewport, mode)
    try:
        before = canvas_box(page)
        boxes = [before]
        for stroke in canvas_strokes(four):
            draw(page, boxes[-1], [stroke])
            settle(page)
            boxes.append(canvas_box(page))
        moved = [(round(b["x"] - before["x"]), round(b["y"] - before["y"])) for b in boxes]
        assert all(abs(dx) <= STILL_PX and abs(dy) <= STILL_PX for dx, dy in moved), moved
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_mode_can_be_chosen_without_scrolling_sideways(server, viewport):
    context, page = open_draw_page(server, viewport, "digit")
    try:
        for mode in ("Digit", "Number", "Photo", "Teach"):
            box = page.get_by_role("radio", name=mode).bounding_box()
            assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"], mode
    finally:
        context.close()
