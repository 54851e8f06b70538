"""The Train page in Chromium against a real server: train a run and watch it, queue a second one from another
session, stop both, keep and delete a run, then draw with the new network on the Draw page."""

import re

import pytest

from scaffold import (
    SAMPLE,
    canvas_box,
    chromium,
    draw,
    numpy_model_only,
    settle,
    still_page,
    streamlit_server,
    tiny_pen_env,
)

pytestmark = pytest.mark.browser
RUN = "Run 1: NumPy MLP, written from scratch"
ONE = [[[140, 60], [140, 220]]]  # a plain vertical stroke


@pytest.fixture(scope="module", autouse=True)
def patient_expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    env = tiny_pen_env(folder) | {"MNIST_DATA": str(SAMPLE)} | numpy_model_only(folder)  # every run here is NumPy
    with streamlit_server(folder / "streamlit.log", env=env) as (url, _), chromium() as browser:
        yield url, browser


def open_train_page(server):
    url, browser = server
    page = still_page(browser, {"width": 1280, "height": 900})
    page.set_default_timeout(90_000)
    page.goto(f"{url}/train")
    page.get_by_text("Set the knobs and press Train").wait_for()
    return page


def set_slider(page, label: str, key: str) -> None:
    """Move a slider to its end ('End') or start ('Home') with the keyboard, as a person can."""
    page.get_by_role("slider", name=re.compile(rf"^{re.escape(label)}")).focus()  # its name goes on with its help
    page.keyboard.press(key)
    settle(page)


def test_a_run_trains_live_and_its_network_reads_a_drawing_on_the_draw_page(server):
    import numpy as np
    from playwright.sync_api import expect

    page = open_train_page(server)
    set_slider(page, "Epochs", "End")  # 50 epochs of the fewest digits (1,000, a tenth kept aside): seconds to watch
    set_slider(page, "MNIST digits", "Home")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"Epoch \d+/50 · [\d,]+ digits/s · \d+ s left"))).to_be_visible()
    # 50 epochs take about 6 s on a quiet machine; minutes when other work shares its two cores
    expect(page.get_by_text(re.compile(r"MNIST test accuracy: \d+\.\d\d%"))).to_be_visible(timeout=240_000)
    expect(page.get_by_text(f"{RUN} finished: ", exact=False)).to_be_visible()

    page.get_by_role("button", name="Keep").click()
    expect(page.get_by_text(re.compile(rf"#1 {RUN}, \d+\.\d\d% on MNIST"))).to_be_visible()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text(re.compile(rf"#1 {RUN}"))).to_have_count(0)

    page.get_by_role("button", name="Draw with it").click()
    page.get_by_text("Draw a digit (0-9)").wait_for()
    expect(page.get_by_role("combobox", name="Model")).to_have_value(RUN)
    settle(page)
    draw(page, canvas_box(page), [np.array(stroke, dtype=float) for stroke in ONE])
    expect(page.get_by_role("heading", name=re.compile(r"Prediction: \d|Not sure: \d or \d\?"))).to_be_visible()
    expect(page.get_by_text(re.compile(rf"probability .* · {RUN}$"))).to_be_visible()


def test_a_second_session_queues_and_stop_ends_both_runs(server):
    from playwright.sync_api import expect

    first = open_train_page(server)
    first.locator(".st-key-knob_numpy_hidden input").fill("1024")  # a wide network for 50 epochs: minutes
    first.keyboard.press("Enter")
    settle(first)
    set_slider(first, "Epochs", "End")
    set_slider(first, "Batch size", "Home")
    first.get_by_role("button", name="Train", exact=True).click()
    expect(first.get_by_text(re.compile(r"Epoch \d+/50"))).to_be_visible()

    second = open_train_page(server)
    second.get_by_role("button", name="Train", exact=True).click()
    expect(second.get_by_text("Queued: position 1")).to_be_visible()
    second.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
    expect(second.get_by_text("stopped before it started")).to_be_visible()

    # one epoch finished at least: the run is niced, so a busy machine slows it first
    expect(first.get_by_text(re.compile(r"Epoch [2-9]\d*/50"))).to_be_visible(timeout=240_000)
    first.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True).click()
    expect(first.get_by_text(re.compile(r"stopped by you after epoch \d+"))).to_be_visible()
    expect(first.get_by_text(re.compile(r"MNIST test accuracy: \d+\.\d\d%"))).to_be_visible()
