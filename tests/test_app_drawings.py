"""Saving drawings on the Draw page and the Drawings page, run headless by AppTest with a real store.

AppTest cannot drive the canvas (a custom component), so these tests hand the page what the canvas returns
for a real MNIST digit drawn white on black; test_browser_drawings.py draws with the mouse instead.
"""

from __future__ import annotations

import io
import sys
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from mnist_app import models
from mnist_app.drawings import DrawingStore, canvas_png
from mnist_app.testing import ROOT

DRAWINGS = "mnist_app/ui/drawings.py"


def as_canvas(digit: np.ndarray) -> np.ndarray:
    """A uint8 (28, 28) MNIST digit as st_canvas returns a drawing of it: (280, 280, 4) RGBA, white on black."""
    grey = np.asarray(Image.fromarray(digit).resize((280, 280), Image.Resampling.BILINEAR))
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


@pytest.fixture(scope="module")
def read_right(mnist_sample) -> list[tuple[np.ndarray, int]]:
    """Real MNIST test digits that the NumPy model reads right, and is sure of, as canvas drawings, one per label (an
    unsure reading's headline asks which of two digits it is)."""
    from mnist_app.preprocess import canvas_to_mnist

    model, chosen = models.load("numpy-mlp"), {}
    for image, label in zip(mnist_sample.x_test, mnist_sample.y_test, strict=True):
        canvas = as_canvas(image)
        reading = models.read(model.predict_proba(canvas_to_mnist(canvas)[None])[0], model.unsure_below)
        if int(label) not in chosen and reading.digit == label and not reading.unsure:
            chosen[int(label)] = (canvas, int(label))
    return [chosen[d] for d in range(10)]


@pytest.fixture
def store_path(tmp_path, monkeypatch):
    path = tmp_path / "drawings.sqlite"
    monkeypatch.setenv("MNIST_APP_DB", f"sqlite:///{path}")
    monkeypatch.delenv("MNIST_APP_COLLECT", raising=False)
    return path


def draw_page(monkeypatch, canvas: np.ndarray | None) -> AppTest:
    """The Draw page with the NumPy model, its canvas holding `canvas`."""
    objects = [] if canvas is None else [{"type": "path", "path": [["M", 1, 1]], "ink": int(canvas.sum())}]
    drawn = SimpleNamespace(image_data=canvas, json_data={"objects": objects})
    fake = ModuleType("streamlit_drawable_canvas")  # the page imports st_canvas from here on every run
    fake.st_canvas = lambda **_: drawn
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", fake)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.radio(key="model").set_value("numpy-mlp").run()
    return at


def test_the_save_button_is_preset_to_the_reading_and_one_click_stores_the_drawing(monkeypatch, store_path, read_right):
    canvas, label = read_right[4]
    at = draw_page(monkeypatch, canvas)
    assert not at.exception
    assert any(f"Prediction: {label}" == s.value for s in at.subheader)
    assert at.selectbox(key="save_label").value == label
    assert at.button(key="save").label == f"Save as {label}"
    assert "nothing about you" in " ".join(c.value for c in at.caption)
    at.run()  # reruns without a click save nothing
    assert DrawingStore(f"sqlite:///{store_path}").count() == 0

    at.button(key="save").click().run()
    assert not at.exception
    (saved,) = DrawingStore(f"sqlite:///{store_path}").page()
    assert saved.label == label and saved.model == "numpy-mlp" and saved.brush == 20
    assert set(saved.predictions) == set(models.available())
    assert int(np.argmax(saved.predictions["numpy-mlp"])) == label
    assert Image.open(io.BytesIO(saved.canvas_png)).size == (280, 280)
    assert any(f"Saved as {label}" in t.value for t in at.toast)
    assert at.button(key="save").label == f"Saved as {label}" and at.button(key="save").disabled


def test_picking_another_digit_saves_the_drawing_under_that_digit(monkeypatch, store_path, read_right):
    canvas, label = read_right[7]
    at = draw_page(monkeypatch, canvas)
    at.selectbox(key="save_label").set_value(1).run()
    assert at.button(key="save").label == "Save as 1"
    at.button(key="save").click().run()
    assert [d.label for d in DrawingStore(f"sqlite:///{store_path}").page()] == [1]


def test_an_empty_canvas_offers_no_saving(monkeypatch, store_path):
    at = draw_page(monkeypatch, None)
    assert not at.exception
    assert not [b for b in at.button if b.key == "save"]


def test_collect_off_removes_saving_and_reading_goes_on(monkeypatch, store_path, read_right):
    monkeypatch.setenv("MNIST_APP_COLLECT", "off")
    canvas, label = read_right[2]
    at = draw_page(monkeypatch, canvas)
    assert any(f"Prediction: {label}" == s.value for s in at.subheader)
    assert not [b for b in at.button if b.key == "save"] and not store_path.exists()


def test_a_broken_store_turns_saving_off_with_the_reason_and_reading_goes_on(monkeypatch, store_path, read_right):
    store_path.write_bytes(b"not a database at all" * 200)
    canvas, label = read_right[3]
    at = draw_page(monkeypatch, canvas)
    assert not at.exception and not at.error
    assert any(f"Prediction: {label}" == s.value for s in at.subheader)
    assert any("Saving drawings is off" in c.value and "damaged" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key == "save"]


@pytest.fixture
def filled_store(store_path, mnist_sample) -> DrawingStore:
    """40 real MNIST test digits saved as the Draw page saves them; the last 5 under a wrong label (misreads)."""
    store = DrawingStore(f"sqlite:///{store_path}")
    for k, (image, label) in enumerate(zip(mnist_sample.x_test[:40], mnist_sample.y_test[:40], strict=True)):
        given = int(label) if k < 35 else (int(label) + 1) % 10
        store.add(image / 255.0, given, canvas_png=canvas_png(as_canvas(image)), model="numpy-mlp", brush=20)
    return store


def drawings_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    return at.switch_page(DRAWINGS).run()


def test_the_drawings_page_counts_measures_and_shows_the_drawings(filled_store, mnist_sample):
    at = drawings_page()
    assert not at.exception
    assert "40 drawings" in at.caption[0].value
    table = at.dataframe[0].value
    assert list(table["model"]) == [models.label_of(n) for n in models.available()]
    numpy_model = models.load("numpy-mlp")
    images, labels = filled_store.export()
    expected = float((numpy_model.predict_proba(images).argmax(1) == labels).mean())
    assert table.set_index("model").loc[models.label_of("numpy-mlp"), "accuracy"] == pytest.approx(expected)
    assert len(at.get("image")) == 24 and len(at.get("vega_lite_chart")) == 2  # a page of drawings; counts, confusion
    assert len([b for b in at.button if b.key.startswith("delete_")]) == 24
    assert {b.key for b in at.get("download_button")} >= {"download_npz", "download_csv"}


def test_the_gallery_pages_filters_to_misreads_and_deletes_one(filled_store):
    at = drawings_page()
    at.number_input(key="gallery_page").set_value(2).run()
    assert len([b for b in at.button if b.key.startswith("delete_")]) == 16
    first = sorted(int(b.key.removeprefix("delete_")) for b in at.button if b.key.startswith("delete_"))[0]
    at.button(key=f"delete_{first}").click().run()
    assert not at.exception
    assert filled_store.count() == 39 and first not in filled_store.dataset().ids
    at.selectbox(key="gallery_filter").set_value("numpy-mlp").run()
    shown = {int(b.key.removeprefix("delete_")) for b in at.button if b.key.startswith("delete_")}
    images, labels = filled_store.export()
    predicted = models.load("numpy-mlp").predict_proba(images).argmax(1)
    assert shown == set(filled_store.dataset().ids[predicted != labels].tolist())
    assert len(shown) >= 5  # at least the five saved under a wrong label


def test_the_drawings_page_says_how_to_save_when_there_are_none(store_path):
    at = drawings_page()
    assert not at.exception
    assert "press Save" in at.info[0].value


def test_the_drawings_page_names_a_broken_store(store_path):
    store_path.write_bytes(b"not a database at all" * 200)
    at = drawings_page()
    assert not at.exception
    assert "cannot be used" in at.error[0].value and str(store_path) in at.error[0].value
