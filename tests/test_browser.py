"""End to end: a real Streamlit server, Debian's Chromium, real pen-written digits drawn with the mouse.

Each test opens its own page (one server for the module), draws what it needs and reads the result once the
page has stopped changing: the app reads after every stroke, so a reading taken mid-digit means nothing.
"""

import re
import time

import numpy as np
import pytest

from mnist_app import models
from mnist_app.data import pendigits

from scaffold import (
    PICTURES_SHOWN,
    ROOT,
    canvas_box,
    canvas_strokes,
    choose_model,
    chromium,
    clear,
    draw,
    readable_digits,
    settle,
    still_page,
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
    context, page = on_the_draw_page(server, height=1000)
    yield page
    context.close()


def reading_by(page, name: str):
    """The caption under a reading by model `name`: on the page only once that model has loaded and read the drawing.
    Wait for it, not for the page's other text, after choosing a model: that text is already there, from the last
    model's run, while the chosen one (and TensorFlow) still loads."""
    return page.get_by_text(f"· {models.label_of(name)}")


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
    expect(
        page.get_by_role("img", name=re.compile(r"^Probability of each digit\. 0: .*, 3: (9\d|100)%"))
    ).to_be_visible()
    expect(page.get_by_text("What the model sees")).to_be_visible()


@pytest.mark.parametrize("name", ["keras-cnn", "keras-mlp"])
def test_switching_model_reads_the_same_drawing_again(page, three, name):
    from playwright.sync_api import expect

    draw(page, canvas_box(page), canvas_strokes(three))
    settle(page)
    choose_model(page, models.label_of(name))
    expect(reading_by(page, name)).to_be_visible()
    expect(page.get_by_text("Prediction: 3", exact=True)).to_be_visible()


def test_the_comparison_sits_under_its_toggle_and_clear_keeps_compare_on(page, three):
    from playwright.sync_api import expect

    compare = page.get_by_text("Compare every model on this drawing")
    expect(compare).to_be_visible()  # offered before anything is drawn
    draw(page, canvas_box(page), canvas_strokes(three))
    settle(page)
    compare.click()
    table = page.locator("[data-testid='stDataFrame']")
    expect(table).to_be_visible()
    toggle, box = compare.bounding_box(), table.bounding_box()
    assert 0 <= toggle["x"] - box["x"] < 60 and 0 < box["y"] - (toggle["y"] + toggle["height"]) < 40  # right under it
    clear(page)
    expect(table).to_have_count(0)  # nothing to compare
    draw(page, canvas_box(page), [stroke + 4 for stroke in canvas_strokes(three)])  # not the very strokes cleared
    expect(table).to_be_visible()  # Compare stayed on


def test_the_explanation_opens_in_one_click_in_panels_of_one_size_with_readable_titles(page):
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
    page.wait_for_function(PICTURES_SHOWN, arg=before + 3)
    panels = page.locator("[data-testid='stImage']").filter(has_not_text="What the model sees").locator("img")
    sizes = {(round(b["width"]), round(b["height"])) for b in (panels.nth(k).bounding_box() for k in range(3))}
    assert len(sizes) == 1 and min(next(iter(sizes))) >= 100  # one size, big enough to see each pixel
    title = page.get_by_text("What made it say 6", exact=True)
    assert float(title.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 14  # text, not a tiny label
    choose_model(page, models.label_of("keras-mlp"))  # it follows the chosen model
    settle(page)
    expect(page.get_by_text("no convolution")).to_be_visible()  # no Grad-CAM for an MLP: it says why, once
    expect(page.get_by_text("most active units")).to_have_count(0)
    expect(page.get_by_text("Red ink pushed the model towards 6")).to_be_visible()
    expect(page.get_by_text("Prediction: 6", exact=True)).to_be_visible()  # and the reading still works


def at_1280x800(server):
    """A fresh page on the Draw page in a 1280x800 window, the issue's laptop screen."""
    return on_the_draw_page(server, height=800)


def on_the_draw_page(server, height: int):
    """(context, page): a fresh browser session on the Draw page, 1280 px wide."""
    url, browser, _ = server
    page = still_page(browser, {"width": 1280, "height": height})
    context = page.context
    page.set_default_timeout(90_000)
    page.goto(url)
    page.get_by_text("Draw a digit (0-9)").wait_for()
    return context, page


def on_screen(locator, height: int = 800) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_at_1280x800_compare_and_explain_are_on_screen_without_scrolling(server, three):
    from playwright.sync_api import expect

    context, page = at_1280x800(server)
    draw(page, canvas_box(page), canvas_strokes(three))
    settle(page)
    compare, explain = page.get_by_text("Compare every model on this drawing"), page.get_by_text("Explain this reading")
    assert on_screen(compare) and on_screen(explain)
    explain.click()
    panels = page.locator("[data-testid='stImage']").filter(has_not_text="What the model sees").locator("img")
    expect(panels).to_have_count(3)
    assert all(on_screen(panels.nth(k)) for k in range(3))
    compare.click()
    expect(page.locator("[data-testid='stDataFrame']")).to_be_visible()
    assert on_screen(page.locator("[data-testid='stDataFrame']"))
    assert page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollTop") == 0
    context.close()


def overlaps(a: dict, b: dict) -> bool:
    across = a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
    return across and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_the_canvas_toolbar_covers_nothing(page, three):
    from playwright.sync_api import expect

    draw(page, canvas_box(page), canvas_strokes(three))
    settle(page)
    box = canvas_box(page)
    page.mouse.move(box["x"] + 140, box["y"] + 140)  # the toolbar shows while the pointer is on the canvas
    expect(page.locator(".dc-toolbar")).to_have_css("opacity", "1")  # Playwright's CSS reaches into its shadow root
    page.wait_for_timeout(400)  # its slide into place
    card = page.locator(".dc-toolbar-card").bounding_box()
    others = [
        page.get_by_role("button", name="Clear"),
        page.locator("[data-testid='stSlider']"),
        page.get_by_text(re.compile(r"probability .* · ")),
        page.get_by_role("combobox", name="Model"),
        page.locator("[data-testid='stButtonGroup']"),
    ]
    assert not any(overlaps(card, other.bounding_box()) for other in others)


def test_the_canvas_stays_put_while_a_model_loads(server, tmp_path):
    """On a server just started, Keras takes seconds to load: its spinner must not move the canvas when it goes."""
    browser = server[1]
    with streamlit_server(tmp_path / "streamlit.log") as (url, process):
        page = still_page(browser, {"width": 1280, "height": 800})
        page.set_default_timeout(90_000)
        page.goto(url)
        page.get_by_text("Draw a digit (0-9)").wait_for()
        page.evaluate(TRACK_CANVAS)
        choose_model(page, models.label_of("keras-cnn"))
        page.wait_for_function(LOADED)  # the choice shows at once; the load is over when its spinner is
        settle(page)
        tops = page.evaluate("window.__canvasTops")
        page.context.close()
    assert max(tops) - min(tops) < 1, sorted(set(tops))
    assert process.returncode == 0  # stopped cleanly, its warm-up of the other models likely still running


def test_a_server_stopped_while_it_warms_up_its_models_ends_cleanly(server, tmp_path):
    # a thread inside TensorFlow while Python finalizes crashed the server (SIGSEGV or SIGABRT, 2 of 4 such stops)
    # or hung it past the 20 s the stop waits; two stops, each just after the warm-up has loaded keras-mlp
    browser = server[1]
    for attempt in range(2):
        log = tmp_path / f"streamlit-{attempt}.log"
        with streamlit_server(log) as (url, process):
            page = still_page(browser)
            page.goto(url)
            page.get_by_text("Draw a digit (0-9)").wait_for()
            page.context.close()
            deadline = time.monotonic() + 120
            while "loaded model keras-mlp" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
        assert "loaded model keras-mlp" in log.read_text()
        assert process.returncode == 0, log.read_text()[-3000:]


TRACK_CANVAS = """() => {
    window.__canvasTops = []; window.__spinnerSeen = false;
    const track = () => {
        const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot?.querySelector('canvas'));
        const canvas = host?.shadowRoot.querySelector('canvas');
        if (canvas) window.__canvasTops.push(canvas.getBoundingClientRect().top);
        if (document.querySelector("[data-testid='stSpinner']")) window.__spinnerSeen = true;
        requestAnimationFrame(track);
    };
    track();
}"""
# the page showed the spinner of a model's load, and shows it no more: a model that takes a while has loaded
LOADED = """() => window.__spinnerSeen && !document.querySelector("[data-testid='stSpinner']")"""


def test_a_reload_keeps_the_chosen_model_and_page(page):
    from playwright.sync_api import expect

    label = models.label_of("keras-mlp")
    choose_model(page, label)
    expect(page).to_have_url(re.compile(r"[?&]model=keras-mlp"))
    page.reload()
    expect(page.get_by_role("combobox", name="Model")).to_have_value(label)
    page.get_by_role("link", name="Diagnostics").click()
    expect(page.get_by_role("heading", name="Diagnostics")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Diagnostics")).to_be_visible()


def test_the_pages_fetch_nothing_from_outside_the_server(server):
    """The app works offline: its favicon, fonts and scripts all come from the server itself."""
    url, browser, _ = server
    page = still_page(browser, {"width": 1280, "height": 1000})
    context = page.context
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith((url, "data:")) else 0)
    page.goto(url)
    page.get_by_text("Draw a digit (0-9)").first.wait_for()
    for name, heading in (("Diagnostics", "Diagnostics"), ("Drawings", "Drawings"), ("Train", "Train a network")):
        page.get_by_role("link", name=name).click()
        page.get_by_role("heading", name=heading).first.wait_for()
        settle(page)
    context.close()
    assert outside == []


def test_an_x_drawn_with_the_mouse_is_said_not_to_look_like_a_digit(page):
    from playwright.sync_api import expect

    strokes = [np.array([[60, 60], [140, 140], [220, 220]]), np.array([[220, 60], [140, 140], [60, 220]])]
    draw(page, canvas_box(page), [s.astype(float) for s in strokes])
    settle(page)
    expect(page.get_by_role("heading", name="That does not look like a digit")).to_be_visible()


def test_clear_empties_the_canvas(page, three):
    from playwright.sync_api import expect

    draw(page, canvas_box(page), canvas_strokes(three))
    settle(page)
    expect(page.get_by_text("Prediction: 3", exact=True)).to_be_visible()
    clear(page)
    expect(page.get_by_text("Prediction:")).to_have_count(0)


def test_the_same_digit_drawn_again_after_clear_is_read_again(page, three):
    from playwright.sync_api import expect

    for _ in range(2):
        draw(page, canvas_box(page), canvas_strokes(three))
        settle(page)
        expect(page.get_by_text("Prediction: 3", exact=True)).to_be_visible()
        clear(page)
        settle(page)


def test_the_diagnostics_model_is_in_the_url_and_a_reload_keeps_it(page):
    from playwright.sync_api import expect

    page.get_by_role("link", name="Diagnostics").click()
    page.get_by_role("heading", name="Diagnostics").wait_for()
    settle(page)  # its charts drawn: a page still drawing them was once too busy to open the select box
    label = models.label_of("keras-cnn")
    choose_model(page, label)  # the Diagnostics page's Model select box, as the Draw page's
    expect(page).to_have_url(re.compile(r"[?&]diagnostics_model=Keras\+CNN"))
    page.reload()
    expect(page.get_by_role("combobox", name="Model")).to_have_value(label)


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


def test_the_server_log_is_free_of_tensorflow_cuda_noise(page, server, three):
    from playwright.sync_api import expect

    draw(page, canvas_box(page), canvas_strokes(three))
    settle(page)
    choose_model(page, models.label_of("keras-cnn"))
    expect(reading_by(page, "keras-cnn")).to_be_visible()  # a Keras model has read the drawing: TensorFlow is loaded
    log = server[2].read_text()
    assert "cuInit" not in log and "cuda" not in log.lower() and "Traceback" not in log


HEADLINE = re.compile(r"Prediction: \d|Not sure: \d or \d\?|That does not look like a digit|Too small to read well")


def settled_reading(page, quiet_s: float = 2.0, limit_s: float = 60.0) -> str:
    """The Draw page's reading once it stops changing: the app reads after every stroke, so a reading taken
    right after the last stroke may still be the previous stroke's."""
    import time

    def snapshot() -> str:
        return page.locator("body").inner_text()  # the reading and Streamlit's "Running"

    last, since, deadline = snapshot(), time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = snapshot()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s and HEADLINE.search(now):
            return now
    raise AssertionError(f"the page never settled: {last}")


def test_held_out_fours_drawn_with_the_mouse_are_read_or_flagged_once_the_page_settles(page):
    from mnist_app.data import pendigits

    page.goto(page.url.rsplit("/", 1)[0] + "/")  # the Draw page, wherever an earlier test left the browser
    page.get_by_text("Draw a digit (0-9)").wait_for()
    choose_model(page, "NumPy MLP (from scratch)")
    fours = [d for d in pendigits.select_writers(pendigits.load(), "heldout") if d.label == 4][:3]
    assert len(fours) == 3
    for four in fours:  # the three misread 4s were the first held-out 4s drawn with the mouse
        draw(page, canvas_box(page), canvas_strokes(four))
        reading = settled_reading(page)
        assert "Prediction: 4" in reading or re.search(r"Not sure: (4 or \d|\d or 4)\?", reading), reading
        clear(page)


def test_on_a_phone_the_reading_is_above_the_fold(server, three):
    from playwright.sync_api import expect

    url, browser, _ = server
    page = still_page(browser, {"width": 390, "height": 844})  # a phone's width
    context = page.context
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


HEADLINE_CLIPPED = """() => { const box = document.querySelector('.st-key-headline');
    return box.scrollHeight > box.clientHeight + 1; }"""


def test_on_a_phone_the_longest_headlines_are_shown_whole(server, three):
    """The headline's box keeps its height from stroke to stroke (the canvas under it holds still), so on a phone it
    is tall enough for the longest headlines: a two-line title and a two-line caption, nothing cut off."""
    from playwright.sync_api import expect

    url, browser, _ = server
    page = still_page(browser, {"width": 390, "height": 844})
    context = page.context
    page.set_default_timeout(90_000)
    page.goto(url)
    page.get_by_text("Draw a digit (0-9)").wait_for()
    page.locator("canvas").last.scroll_into_view_if_needed()
    strokes = canvas_strokes(three)
    centre = np.concatenate(strokes).mean(axis=0)
    tiny = [centre + (stroke - centre) * 0.12 for stroke in strokes]  # a 3 about 20 px tall
    four = next(d for d in readable_digits(("numpy-mlp",), per_label=8)[4] if len(d.strokes) >= 2)
    for drawing, title in ((tiny, "Too small to read well"), (canvas_strokes(four)[:1], "That does not look like a")):
        draw(page, canvas_box(page), drawing)
        settle(page)
        expect(page.get_by_role("heading", name=re.compile(title))).to_be_visible()
        assert not page.evaluate(HEADLINE_CLIPPED), page.locator(".st-key-headline").inner_text()
        clear(page)
    context.close()


def test_a_number_drawn_on_the_digit_canvas_is_said_to_be_several_digits(page):
    """A "42" is not read, confidently, as a 4: the page says what it sees and points to Number mode."""
    from playwright.sync_api import expect

    digits = readable_digits(("numpy-mlp",))
    box = canvas_box(page)
    for digit, x in ((digits[4][0], 0.27), (digits[2][0], 0.73)):
        draw(page, box, pendigits.canvas_strokes(digit, size=0.4, centre=(x, 0.5)))
    settle(page)
    expect(page.get_by_role("heading", name="Looks like several digits")).to_be_visible()
