"""Saving drawings on the Draw page and the Drawings page, run headless by AppTest with a real store.

AppTest cannot drive the canvas (a custom component), so these tests hand the page what the canvas returns
for a real MNIST digit drawn white on black; test_browser_drawings.py draws with the mouse instead.
"""

from __future__ import annotations

import io
import re
import sqlite3
import sys
import time
from types import ModuleType, SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from mnist_app import models
from mnist_app.store import readings
from mnist_app.store.drawings import DrawingStore
from mnist_app.store.rows import canvas_png
from mnist_app.store.visitors import Visitor

from scaffold import ROOT

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


def holding(monkeypatch, canvas: np.ndarray | None) -> None:
    """The canvas holds `canvas` from the page's next run on."""
    objects = [] if canvas is None else [{"type": "path", "path": [["M", 1, 1]], "ink": int(canvas.sum())}]
    drawn = SimpleNamespace(image_data=canvas, json_data={"objects": objects})
    fake = ModuleType("streamlit_drawable_canvas")  # the page imports st_canvas from here on every run
    fake.st_canvas = lambda **_: drawn
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", fake)


def draw_page(monkeypatch, canvas: np.ndarray | None) -> AppTest:
    """The Draw page with the NumPy model, its canvas holding `canvas`."""
    holding(monkeypatch, canvas)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.selectbox(key="model").set_value("numpy-mlp").run()
    return at


def every_reading_arrives(store: DrawingStore, drawing_id: int, timeout_s: float = 180) -> bool:
    """Every shipped model's reading of the drawing is in the store within `timeout_s`: the save keeps the readings
    of the models the server holds, and the rest fill in behind it as their models load."""
    versions = {name: models.version(name) for name in models.available()}
    deadline = time.monotonic() + timeout_s
    while set(readings.of_drawings(store, [drawing_id], versions).get(drawing_id, {})) != set(versions):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def test_the_save_button_is_preset_to_the_reading_and_one_click_stores_the_drawing(monkeypatch, store_path, read_right):
    canvas, label = read_right[4]
    at = draw_page(monkeypatch, canvas)
    assert not at.exception
    assert any(f"Prediction: {label}" == s.value for s in at.subheader)
    assert at.selectbox(key="save_label").value == label
    assert at.button(key="save").label == f"Save as {label}"
    assert "nothing about you" in " ".join(c.value for c in at.caption)
    assert "resume code" in " ".join(c.value for c in at.caption)  # where to delete them later, from anywhere
    at.run()  # reruns without a click save nothing
    assert DrawingStore(f"sqlite:///{store_path}").count() == 0

    at.button(key="save").click().run()
    assert not at.exception
    (saved,) = DrawingStore(f"sqlite:///{store_path}").page()
    assert saved.label == label and saved.model == "numpy-mlp" and saved.brush == 20
    assert "numpy-mlp" in saved.predictions and set(saved.predictions) <= set(models.available())
    assert int(np.argmax(saved.predictions["numpy-mlp"])) == label
    assert every_reading_arrives(DrawingStore(f"sqlite:///{store_path}"), saved.id)
    assert Image.open(io.BytesIO(saved.canvas_png)).size == (280, 280)
    assert any(f"Saved as {label}" in t.value for t in at.toast)
    assert at.button(key="save").label == f"Saved as {label}" and at.button(key="save").disabled


def test_a_save_is_still_said_when_the_drawing_changes_right_after_it(monkeypatch, store_path, read_right):
    """A stroke that reaches the server during a save reruns the page: its toast is lost, and the changed drawing
    offers saving again. The page still says what was saved, until the canvas is cleared."""
    canvas, label = read_right[4]
    at = draw_page(monkeypatch, canvas)
    at.button(key="save").click().run()
    more = canvas.copy()
    more[130:150, 100:180] = 255  # one more stroke
    holding(monkeypatch, more)
    at.run()
    assert at.button(key="save").label.startswith("Save as")
    assert any(f"Drawing #1 was saved as {label}" in c.value for c in at.caption)


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
    off = [c.value for c in at.caption if "Saving drawings is off" in c.value]
    assert off and "damaged" in off[0] and str(store_path) not in off[0]  # the visitor never sees a server path
    assert not [b for b in at.button if b.key == "save"]


@pytest.fixture
def filled_store(store_path, mnist_sample) -> DrawingStore:
    """40 real MNIST test digits saved as the Draw page saves them, with every model's reading; the last 5 under a
    wrong label (misreads); the first 4 by this test's visitor (VISIT)."""
    store = DrawingStore(f"sqlite:///{store_path}")
    names = models.available()
    loaded = {name: models.load(name) for name in names}
    versions = {name: models.version(name) for name in names}
    for k, (image, label) in enumerate(zip(mnist_sample.x_test[:40], mnist_sample.y_test[:40], strict=True)):
        digit = image / 255.0
        given = int(label) if k < 35 else (int(label) + 1) % 10
        read = {name: model.predict_proba(digit[None])[0].tolist() for name, model in loaded.items()}
        visitor = Visitor.of(VISIT if k < 4 else "someone-else")
        store.add(digit, given, canvas_png=canvas_png(as_canvas(image)), model="numpy-mlp", brush=20,
                  predictions=read, versions=versions, visitor=visitor)  # fmt: skip
    return store


VISIT = "resume-code-of-this-test-visit"  # the visitor's secret


def drawings_page(**session_state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["visitor_secret"] = VISIT
    for key, value in session_state.items():
        at.session_state[key] = value
    return at.run().switch_page(DRAWINGS).run()


def pictures(at: AppTest) -> list[int]:
    """The ids of the drawings the gallery shows, from their pictures' alt text ("Drawing #12, a 3")."""
    return [int(re.match(r"!\[Drawing #(\d+),", m.value)[1]) for m in at.markdown if m.value.startswith("![Drawing #")]


def accuracy_table(at: AppTest) -> pd.DataFrame:
    """The accuracy table, by model."""
    return at.table[0].value.set_index("model")


def deletable(at: AppTest) -> set[int]:
    return {int(b.key.removeprefix("confirm_")) for b in at.button if b.key.startswith("confirm_")}


def test_the_drawings_page_counts_measures_and_shows_the_drawings(filled_store, mnist_sample):
    at = drawings_page()
    assert not at.exception
    assert "40 drawings" in at.caption[0].value and "sqlite" not in at.caption[0].value  # no URL, no path
    table = accuracy_table(at)
    assert list(table.index) == [models.label_of(n) for n in models.available()]
    numpy_model = models.load("numpy-mlp")
    images, labels = filled_store.export()
    expected = float((numpy_model.predict_proba(images).argmax(1) == labels).mean())
    assert table.loc[models.label_of("numpy-mlp"), "accuracy"] == pytest.approx(expected)
    assert len(pictures(at)) == 24 and len(at.get("vega_lite_chart")) == 2  # a page of drawings; counts, confusion
    assert {b.key for b in at.get("download_button")} >= {"download_npz", "download_csv"}


def test_a_visitor_may_delete_only_their_own_drawings_after_confirming_and_may_undo(filled_store):
    at = drawings_page()
    at.number_input(key="gallery_page").set_value(2).run()
    mine = set(filled_store.dataset(owner=Visitor.of(VISIT).owner).ids.tolist())
    assert deletable(at) == mine  # the oldest four, on page 2; nobody else's
    first = min(mine)
    at.button(key=f"confirm_{first}").click().run()
    assert not at.exception
    assert filled_store.count() == 39 and first not in filled_store.dataset().ids
    assert any(f"#{first} deleted" in s.value for s in at.success)
    at.button(key="undo_delete").click().run()
    assert filled_store.count() == 40 and first in filled_store.dataset().ids
    assert filled_store.page(0, 1, misread_by=None)[0].id != first  # back under its own id, not as a new drawing
    assert first in {d.id for d in filled_store.fetch([first])}


def test_the_drawings_page_shows_the_visitor_their_resume_code_where_they_delete_their_drawings(filled_store):
    at = drawings_page()
    assert not at.exception
    assert [c.value for c in at.code] == [VISIT]  # theirs alone: another visitor's page shows another code
    assert drawings_page(visitor_secret=VISIT.replace("this", "another")).code[0].value != VISIT


def test_a_stale_delete_says_the_drawing_was_already_gone(filled_store):
    at = drawings_page()
    at.number_input(key="gallery_page").set_value(2).run()
    first = min(deletable(at))
    filled_store.delete(first)  # another tab, or another server, deleted it meanwhile
    at.button(key=f"confirm_{first}").click().run()
    assert not at.exception and any(f"#{first} was already gone" in w.value for w in at.warning)


def test_the_admin_token_lets_a_moderator_delete_anyones_drawings(filled_store, monkeypatch):
    monkeypatch.setenv("MNIST_APP_ADMIN_TOKEN", "let-me-moderate")
    at = drawings_page()
    assert len(deletable(at)) == 0
    at.text_input(key="admin_token").set_value("wrong").run()
    assert len(deletable(at)) == 0 and any("not the admin token" in c.value for c in at.caption)
    at.text_input(key="admin_token").set_value("let-me-moderate").run()
    shown = deletable(at)
    assert len(shown) == 24
    at.button(key=f"confirm_{max(shown)}").click().run()
    assert filled_store.count() == 39


def test_no_token_is_offered_when_none_is_set(filled_store, monkeypatch):
    monkeypatch.delenv("MNIST_APP_ADMIN_TOKEN", raising=False)
    at = drawings_page()
    assert not [t for t in at.text_input if t.key == "admin_token"]


def test_the_gallery_pages_and_filters_to_misreads_on_the_stored_readings(filled_store):
    at = drawings_page()
    at.number_input(key="gallery_page").set_value(2).run()
    assert len(pictures(at)) == 16
    at.selectbox(key="gallery_filter").set_value("numpy-mlp").run()
    images, labels = filled_store.export()
    predicted = models.load("numpy-mlp").predict_proba(images).argmax(1)
    wrong = set(filled_store.dataset().ids[predicted != labels].tolist())
    assert len(wrong) >= 5 and sorted(pictures(at)) == sorted(wrong)  # at least the five saved under a wrong label


def test_a_new_model_version_reads_the_saved_drawings_in_the_background_with_progress(store_path, mnist_sample):
    store = DrawingStore(f"sqlite:///{store_path}")
    store.add_many(mnist_sample.x_test[:300] / 255.0, mnist_sample.y_test[:300])  # saved with no readings
    at = drawings_page()
    assert not at.exception
    deadline = time.monotonic() + 600  # ends when they are made: the suite can load both cores
    versions = {name: models.version(name) for name in models.available()}
    while not all(readings.progress(store, n, v).complete for n, v in versions.items()):
        assert time.monotonic() < deadline, "the readings were not made in 10 minutes"
        time.sleep(0.5)
    at.run()
    table = accuracy_table(at)
    predicted = models.load("numpy-mlp").predict_proba(mnist_sample.x_test[:300] / 255.0).argmax(1)
    expected = float((predicted == mnist_sample.y_test[:300]).mean())
    assert table.loc[models.label_of("numpy-mlp"), "accuracy"] == pytest.approx(expected)
    assert (table["read"] == 300).all()


def test_the_drawings_page_says_how_to_save_when_there_are_none(store_path):
    at = drawings_page()
    assert not at.exception
    assert "press Save" in at.info[0].value


def test_the_drawings_page_says_a_store_is_broken_without_naming_it(store_path):
    store_path.write_bytes(b"not a database at all" * 200)
    at = drawings_page()
    assert not at.exception
    assert "damaged" in at.error[0].value and str(store_path) not in at.error[0].value


def test_a_database_that_breaks_mid_page_gets_a_message_and_the_draw_page_goes_on(
    filled_store, store_path, monkeypatch
):
    at = drawings_page()
    assert not at.exception and not at.error
    with sqlite3.connect(store_path) as conn:  # the tables vanish under the open connections
        conn.executescript("DROP TABLE readings; DROP TABLE drawings;")
    at.number_input(key="gallery_page").set_value(2).run()
    assert not at.exception
    assert at.error and "drawing store" in at.error[0].value and str(store_path) not in at.error[0].value
    at.switch_page("mnist_app/ui/draw.py").run()
    assert not at.exception and at.selectbox(key="model").value  # the Draw page still offers its models
