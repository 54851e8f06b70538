"""End to end: a real Streamlit server, Debian's Chromium, real pen-written digits drawn with the mouse.

Each test opens its own page (one server for the module), draws what it needs and reads the result once the
page has stopped changing: the app reads after every stroke, so a reading taken mid-digit means nothing.
"""

import pytest

from mnist_app import models
from mnist_app.testing import (
    ROOT,
    canvas_box,
    canvas_strokes,
    chromium,
    clear,
    draw,
    readable_digits,
    settle,
    streamlit_server,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def patient_expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # a Streamlit rerun on a loaded 2-core machine can take seconds


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with streamlit_server(log) as (url, _), chromium() as browser:
        yield url, browser, log


@pytest.fixture
def page(server):
    """A fresh browser page on the Draw page, for this test alone."""
    url, browser, _ = server
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(url)
    page.get_by_text("Draw a digit (0-9)").wait_for()
    yield page
    context.close()


@pytest.fixture(scope="module")
def three():
    """A held-out 3 that every shipped model reads right offline."""
    return readable_digits(models.SHIPPED)[3][0]


def test_every_digit_drawn_with_the_mouse_is_read(page):
    from playwright.sync_api import expect

    for label, (digit,) in readable_digits(("numpy-mlp",)).items():
        draw(page, canvas_box(page), canvas_strokes(digit))
        settle(page)
        try:
            expect(page.get_by_text(f"Prediction: {label}", exact=True)).to_be_visible()
        except AssertionError:
            page.screenshot(path=ROOT / ".pytest_cache" / f"misread-{label}.png")  # what the page showed
            raise
        clear(page)


def test_a_drawing_shows_probabilities_and_what_the_model_sees(page, three):
    from playwright.sync_api import expect

    draw(page, canvas_box(page), canvas_strokes(three))
    settle(page)
    expect(page.get_by_text("Prediction: 3", exact=True)).to_be_visible()
    expect(page.locator("[data-testid='stVegaLiteChart']")).to_be_visible()  # the ten probabilities
    expect(page.get_by_text("What the model sees")).to_be_visible()


@pytest.mark.parametrize("name", ["keras-cnn", "keras-mlp"])
def test_switching_model_reads_the_same_drawing_again(page, three, name):
    from playwright.sync_api import expect

    draw(page, canvas_box(page), canvas_strokes(three))
    settle(page)
    page.get_by_text(models.label_of(name), exact=True).click()
    expect(page.get_by_text(f"· {models.label_of(name)}")).to_be_visible()
    expect(page.get_by_text("Prediction: 3", exact=True)).to_be_visible()


def test_every_model_side_by_side_and_clear_takes_the_table_away(page, three):
    from playwright.sync_api import expect

    compare = page.get_by_text("Compare every model on this drawing")
    expect(compare).to_be_visible()  # offered before anything is drawn
    draw(page, canvas_box(page), canvas_strokes(three))
    settle(page)
    compare.click()
    table = page.locator("[data-testid='stDataFrame']")
    expect(table).to_be_visible()
    clear(page)
    expect(table).to_have_count(0)


def test_the_explanation_opens_in_one_click_and_lays_the_map_over_the_drawing(page):
    from playwright.sync_api import expect

    draw(page, canvas_box(page), canvas_strokes(readable_digits(models.SHIPPED)[6][0]))
    settle(page)
    expect(page.get_by_text("Prediction: 6", exact=True)).to_be_visible()
    images = page.locator("[data-testid='stImage'] img")
    before = images.count()
    page.get_by_text("Explain this reading").click()
    expect(page.get_by_text("Red ink pushed the model towards 6")).to_be_visible()
    expect(page.get_by_text("Red ink speaks for 6 over")).to_be_visible()
    expect(images).to_have_count(before + 3)  # the map over the drawing, the contrast, the units
    page.get_by_text(models.label_of("keras-mlp"), exact=True).click()  # it follows the chosen model
    settle(page)
    expect(page.get_by_text("no convolution")).to_be_visible()  # no Grad-CAM for an MLP: it says why
    expect(page.get_by_text("Red ink pushed the model towards 6")).to_be_visible()
    expect(page.get_by_text("Prediction: 6", exact=True)).to_be_visible()  # and the reading still works


def test_clear_empties_the_canvas(page, three):
    from playwright.sync_api import expect

    draw(page, canvas_box(page), canvas_strokes(three))
    settle(page)
    expect(page.get_by_text("Prediction: 3", exact=True)).to_be_visible()
    clear(page)
    expect(page.get_by_text("Prediction:")).to_have_count(0)


def test_diagnostics_page_shows_plots_and_tables(page):
    from playwright.sync_api import expect

    def charts_drawn(count: int) -> None:
        expect(page.locator("[data-testid='stVegaLiteChart']")).to_have_count(count)
        drawn = page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg")
        expect(drawn).to_have_count(count)  # each drawn by the browser

    page.get_by_role("link", name="Diagnostics").click()
    expect(page.get_by_role("heading", name="Diagnostics")).to_be_visible()
    expect(page.get_by_text("MNIST test accuracy").first).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()
    expect(page.get_by_text("unsure below").first).to_be_visible()  # the calibration, in the first tab
    charts_drawn(1 + 3)  # the reliability diagram; the comparisons' accuracy and two kinds of loss

    page.get_by_role("tab", name="MNIST test set").click()
    expect(page.get_by_text("Most confused")).to_be_visible()
    expect(page.get_by_text("unsure below")).to_have_count(0)  # a closed tab is not drawn
    charts_drawn(1 + 3)  # the confusion matrix
    expect(page.locator("[data-testid='stImage'] img")).to_have_count(1)  # the mistakes, on one sheet

    page.get_by_role("tab", name="Training curves").click()
    charts_drawn(2 + 3)  # loss and accuracy
    expect(page.locator("[data-testid='stImage'] img")).to_have_count(0)  # only the open tab is drawn


def test_the_server_log_is_free_of_tensorflow_cuda_noise(page, server):
    from playwright.sync_api import expect

    page.get_by_text(models.label_of("keras-cnn"), exact=True).click()  # TensorFlow is loaded by now
    expect(page.get_by_text("Draw a digit (0-9)")).to_be_visible()
    log = server[2].read_text()
    assert "cuInit" not in log and "cuda" not in log.lower() and "Traceback" not in log


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


def test_on_a_phone_the_reading_is_above_the_fold(server, three):
    from playwright.sync_api import expect

    url, browser, _ = server
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone's width
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(url)
    page.get_by_text("Draw a digit (0-9)").wait_for()
    page.locator("canvas").last.scroll_into_view_if_needed()
    draw(page, canvas_box(page), canvas_strokes(three))
    settle(page)
    heading = page.get_by_role("heading", name="Prediction: 3")
    expect(heading).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    assert heading.bounding_box()["y"] + heading.bounding_box()["height"] <= 844
    context.close()
