"""End to end: draw a pen digit with the mouse in Chromium, save it, and find it on the Drawings page."""

import pytest

from mnist_app.store.drawings import DrawingStore

from scaffold import (
    canvas_box,
    canvas_strokes,
    chromium,
    draw,
    numpy_model_only,
    readable_digits,
    still_page,
    streamlit_server,
)

pytestmark = pytest.mark.browser


def test_a_drawing_saved_on_the_draw_page_appears_on_the_drawings_page(tmp_path):
    from playwright.sync_api import expect

    store_url = f"sqlite:///{tmp_path / 'drawings.sqlite'}"
    digit = readable_digits(("numpy-mlp",))[5][0]
    env = {"MNIST_APP_DB": store_url} | numpy_model_only(tmp_path)  # the Draw page's first choice reads and saves
    with streamlit_server(tmp_path / "server.log", env) as (url, _), chromium() as browser:
        page = still_page(browser, {"width": 1280, "height": 1000})
        page.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)
        page.goto(url)
        page.get_by_text("Draw a digit (0-9)").wait_for()
        draw(page, canvas_box(page), canvas_strokes(digit))
        expect(page.get_by_text("Prediction: 5", exact=True)).to_be_visible()
        expect(page.get_by_text("nothing about you")).to_be_visible()
        assert DrawingStore(store_url).count() == 0  # nothing is saved without a click

        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)  # idle: the canvas sent its last stroke
        page.get_by_role("button", name="Save as 5").click()
        expect(page.get_by_text("Saved as 5 (drawing #1)")).to_be_visible()  # the toast
        expect(page.get_by_role("button", name="Saved as 5")).to_be_disabled()
        (saved,) = DrawingStore(store_url).page()
        assert saved.label == 5 and saved.model == "numpy-mlp" and saved.canvas_png.startswith(b"\x89PNG")

        page.get_by_role("link", name="Drawings").click()
        expect(page.get_by_role("heading", name="Drawings", exact=True)).to_be_visible()
        expect(page.get_by_text("1 drawing saved")).to_be_visible()
        expect(page.get_by_text("#1", exact=False).first).to_be_visible()
        expect(page.get_by_role("button", name="Delete")).to_have_count(1)
        expect(page.locator("[data-testid='stVegaLiteChart']")).to_have_count(2)  # per digit; confusion
        picture = page.get_by_role("img", name="Drawing #1, a 5")  # the drawing, inside the tile's markdown
        expect(picture).to_be_visible()
        assert picture.evaluate("img => img.complete && img.naturalWidth") == 120  # drawn, at the gallery's size
