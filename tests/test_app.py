"""The pages, run headless by Streamlit's AppTest (the canvas itself is driven in test_browser.py)."""

import json
import os
import subprocess
import sys
import tomllib
from types import ModuleType, SimpleNamespace

import keras
import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from mnist_app import models, reports
from mnist_app.data import pendigits
from mnist_app.models import ensemble
from mnist_app.models.kinds import preset
from mnist_app.preprocess import canvas_to_mnist
from mnist_app.reading import legibility

from scaffold import ROOT, require

DIAGNOSTICS = "mnist_app/ui/diagnostics.py"


def app(monkeypatch, models_dir=None) -> AppTest:
    if models_dir:
        monkeypatch.setenv("MNIST_APP_MODELS", str(models_dir))
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()


def test_draw_page_offers_every_shipped_model_and_prompts_for_a_drawing(monkeypatch):
    at = app(monkeypatch)
    assert not at.exception
    labels = at.selectbox(key="model").options
    assert labels == [models.label_of(n) for n in models.SHIPPED]
    assert any("NumPy" in label for label in labels) and any("Keras" in label for label in labels)
    assert any("Draw a digit" in c.value for c in at.caption)
    assert not any("Prediction" in s.value for s in at.subheader)
    assert at.toggle(key="compare").value is False  # offered before anything is drawn
    assert not any("hover" in c.value for c in at.caption)  # a touch screen has no hover


def test_a_run_of_the_app_leaves_the_loaded_models_keras_state_alone(monkeypatch):
    """Streamlit clears Keras after every script run (250 ms, and the next reading rebuilds TensorFlow's kernels)
    unless the app tells it not to: its models are loaded once per server."""
    from keras.src.backend.common import global_state

    at = app(monkeypatch)
    global_state.set_global_attribute("mnist_app_loaded", True)
    at.run()
    assert not at.exception
    assert global_state.get_global_attribute("mnist_app_loaded") is True


def test_the_app_server_reads_with_one_blas_thread():
    """Its reads are small batches for many visitors at once: a second BLAS thread would only wait for a busy core.
    A fresh process, as a server starts: NumPy is not loaded before the app's first page."""
    require((os.cpu_count() or 1) > 1, "one core: BLAS has one thread anyway")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    page_then_threads = (
        "from streamlit.testing.v1 import AppTest\n"
        "from threadpoolctl import threadpool_info\n"
        "assert not AppTest.from_file('app.py', default_timeout=120).run().exception\n"
        "print(sorted({pool['num_threads'] for pool in threadpool_info() if pool['user_api'] == 'blas'}))"
    )
    ran = subprocess.run([sys.executable, "-c", page_then_threads], cwd=ROOT, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.strip().splitlines()[-1] == "[1]"


@pytest.mark.parametrize("name", models.SHIPPED)
def test_each_model_can_be_chosen(monkeypatch, name):
    at = app(monkeypatch)
    at.selectbox(key="model").set_value(name).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="model").value == name


def test_a_broken_model_shows_a_kind_error_and_the_others_keep_working(monkeypatch, model_copy):
    wrong = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(3)])
    wrong.save(models.weights_path("keras-cnn", model_copy))  # a valid file, but not a digit reader
    at = app(monkeypatch, model_copy)
    at.selectbox(key="model").set_value("keras-cnn").run()
    assert not at.exception
    assert "python train.py keras-cnn" in at.error[0].value
    at.selectbox(key="model").set_value("numpy-mlp").run()
    assert not at.exception and not at.error


def test_a_missing_model_is_not_offered(monkeypatch, model_copy):
    models.weights_path("keras-mlp", model_copy).unlink()
    at = app(monkeypatch, model_copy)
    assert not at.exception
    assert models.label_of("keras-mlp") not in at.selectbox(key="model").options


def test_no_models_at_all_says_how_to_train_them(monkeypatch, tmp_path):
    at = app(monkeypatch, tmp_path)
    assert not at.exception
    assert "python train.py all" in at.error[0].value


def draw_page(monkeypatch, canvas: np.ndarray | None, model: str = "numpy-mlp") -> tuple[AppTest, SimpleNamespace]:
    """The Draw page, the model chosen by the URL, its canvas holding `canvas` ((280, 280, 4) RGBA; None: blank).

    AppTest cannot drive the canvas (a custom component): the page gets what the canvas would return, `drawn`, which
    a test may change before the next run as a new stroke would.
    """
    drawn = SimpleNamespace(image_data=canvas, json_data={"objects": [] if canvas is None else [{"stroke": 1}]})
    fake = ModuleType("streamlit_drawable_canvas")  # the page imports st_canvas from here on every run
    fake.st_canvas = lambda **_: drawn
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", fake)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["model"] = model
    return at.run(), drawn


def as_canvas(digit: np.ndarray) -> np.ndarray:
    """A uint8 (28, 28) MNIST digit as the canvas returns a drawing of it: (280, 280, 4) RGBA, white on black."""
    return pendigits.colour(
        np.asarray(Image.fromarray(digit).resize((280, 280), Image.Resampling.BILINEAR)), "white-on-black"
    )


def headline(at: AppTest) -> str:
    (title,) = [s.value for s in at.subheader]
    return title


@pytest.fixture(scope="module")
def unsure_digit(mnist_sample) -> tuple[np.ndarray, models.Reading]:
    """A real MNIST test digit, legible, that the NumPy model reads under its unsure threshold."""
    model = models.load("numpy-mlp")
    for digit in mnist_sample.x_test:
        canvas = as_canvas(digit)
        reading = models.read(model.predict_proba(canvas_to_mnist(canvas)[None])[0], model.unsure_below)
        if reading.unsure and legibility.problem(canvas) is None:
            return canvas, reading
    raise AssertionError("no unsure reading in the sample")


def test_an_unsure_reading_asks_which_of_two_digits_in_the_headline(monkeypatch, unsure_digit):
    canvas, reading = unsure_digit
    at, _ = draw_page(monkeypatch, canvas)
    assert not at.exception
    assert headline(at) == f"Not sure: {reading.digit} or {reading.runner_up}?"
    assert not at.warning  # no second message in the other column
    assert any(c.value.endswith(f"for {reading.runner_up} · {models.label_of('numpy-mlp')}") for c in at.caption)


def test_a_sure_reading_names_its_digit(monkeypatch, mnist_sample):
    at, _ = draw_page(monkeypatch, as_canvas(mnist_sample.x_test[0]))  # a 7 that every model reads
    assert headline(at) == "Prediction: 7"


@pytest.mark.parametrize(
    "strokes", [[[[140, 140]]], [[[60, 140], [220, 145]]], [[[60, 60], [220, 220]], [[220, 60], [60, 220]]]]
)
def test_a_dot_a_dash_or_an_x_is_said_not_to_look_like_a_digit(monkeypatch, strokes):
    at, _ = draw_page(
        monkeypatch, pendigits.render_strokes([np.array(s, float) for s in strokes], 20, "white-on-black")
    )
    assert not at.exception
    assert headline(at) == "That does not look like a digit"


PLUS_ASKEW = [[[67, 106], [213, 174]], [[174, 67], [106, 213]]]  # a + turned 25 degrees: the ink's + check passes it


@pytest.mark.parametrize("model", ["numpy-mlp", "ensemble"])
def test_a_plus_drawn_askew_is_said_not_to_look_like_a_digit(monkeypatch, model):
    """The ink's measures let it through (its arms leave no corner clear) and the models read it as a sure 4: the marks
    network on the page says what it is (issue 35, point 4)."""
    image = pendigits.render_strokes(
        [np.array(s, float) for s in PLUS_ASKEW], 20, "white-on-black", supersample=pendigits.CANVAS_SUPERSAMPLE
    )
    assert legibility.problem(image) is None
    at, _ = draw_page(monkeypatch, image, model)
    assert not at.exception
    assert headline(at) == "That does not look like a digit"


def test_a_tiny_drawing_is_asked_to_be_drawn_bigger(monkeypatch):
    seven = [np.array([[110, 100], [142, 100], [122, 136]], float)]  # a 7 hardly wider than two strokes of the brush
    at, _ = draw_page(monkeypatch, pendigits.render_strokes(seven, 20, "white-on-black"))
    assert headline(at) == "Too small to read well: draw it bigger"


def test_clear_keeps_compare_on_and_the_next_drawing_is_compared(monkeypatch, mnist_sample):
    at, drawn = draw_page(monkeypatch, as_canvas(mnist_sample.x_test[0]))
    at.toggle(key="compare").set_value(True).run()
    assert len(at.dataframe) == 1
    at.button(key="clear").click().run()
    assert at.toggle(key="compare").value is True and not at.dataframe  # nothing drawn: nothing to compare
    drawn.image_data, drawn.json_data = as_canvas(mnist_sample.x_test[1]), {"objects": [{"stroke": 2}]}
    at.run()
    assert len(at.dataframe) == 1 and headline(at) == "Prediction: 2"


def test_the_url_names_the_chosen_model_so_a_reload_or_a_link_opens_on_it(monkeypatch):
    at, _ = draw_page(monkeypatch, None, model="keras-cnn")
    assert not at.exception and at.selectbox(key="model").value == "keras-cnn"
    at.selectbox(key="model").set_value("keras-mlp").run()
    assert at.query_params["model"] == "keras-mlp"


def test_a_url_naming_a_model_that_is_not_offered_opens_on_the_first(monkeypatch):
    at, _ = draw_page(monkeypatch, None, model="no-such-model")
    assert not at.exception and at.selectbox(key="model").value == models.SHIPPED[0]
    assert at.query_params["model"] == models.SHIPPED[0]


TRAINED = tuple(n for n in models.SHIPPED if preset(n).trains_itself)


def diagnostics(monkeypatch, name: str, section: str | None = None, models_dir=None) -> AppTest:
    """The Diagnostics page showing `name`, with one of its sections' tabs open (the first by default)."""
    at = app(monkeypatch, models_dir)
    at.switch_page(DIAGNOSTICS).run()
    at.selectbox(key="diagnostics_model").set_value(name).run()
    if section:
        at.session_state["diagnostics_section"] = section
        at.run()
    return at


def table_with(at: AppTest, column: str):
    """The page's table that has this column (AppTest does not give a dataframe's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


COMPARISON_CHARTS = 3  # below the chosen model, always: the comparisons' accuracy and two kinds of loss


@pytest.mark.parametrize("name", TRAINED + ("keras-mlp-rmsprop",))
def test_diagnostics_shows_curves_table_matrix_and_mistakes(monkeypatch, name):
    at = diagnostics(monkeypatch, name, "MNIST test set")
    assert not at.exception
    assert "Diagnostics" in at.title[0].value
    assert [t.label for t in at.tabs] == ["Drawn digits and confidence", "MNIST test set", "Training curves"]
    table = table_with(at, "precision")
    assert list(table.columns) == ["class", "precision", "recall", "f1", "support"]
    assert len(table) == 12 and table["support"].iloc[:10].sum() == 10000
    assert table["recall"].between(0, 100).all() and table["recall"].max() > 1  # percentages
    assert at.metric[0].value.endswith("%")
    assert any(" read as " in m.value for m in at.markdown)
    assert len(at.get("vega_lite_chart")) == 1 + COMPARISON_CHARTS  # the confusion matrix
    assert len(at.get("image")) == 1  # the mistakes, on one sheet

    at.session_state["diagnostics_section"] = "Training curves"
    at.run()
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 2 + COMPARISON_CHARTS  # loss and accuracy


def test_a_rerun_never_waits_for_streamlits_full_garbage_collection():
    """With TensorFlow and four models loaded, Streamlit's gc.collect(2) after every run took 0.4 s, and each model
    switch and stroke waited for it (issue 15; benchmarks/speed.py times the switches)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_diagnostics_runs_only_the_open_section(monkeypatch):
    """A model switch draws one section, not all three (issue 15: a switch <= 1 s)."""
    at = diagnostics(monkeypatch, "keras-cnn")
    assert not at.exception
    assert ["measure" in d.value.columns for d in at.dataframe] == [True, False]  # honesty table, comparisons
    assert len(at.get("vega_lite_chart")) == 1 + COMPARISON_CHARTS  # the reliability diagram
    assert not at.get("image")  # the mistakes' sheet is in the closed "MNIST test set" tab

    at.selectbox(key="diagnostics_model").set_value("keras-mlp").run()  # the open tab stays open
    assert at.session_state["diagnostics_section"] == "Drawn digits and confidence"
    assert ["measure" in d.value.columns for d in at.dataframe] == [True, False]


def test_diagnostics_of_the_ensemble_says_it_has_no_curves_of_its_own_and_shows_the_rest(monkeypatch):
    at = diagnostics(monkeypatch, "ensemble", "Training curves")
    assert not at.exception
    assert "No epochs of its own" in at.info[0].value
    members = " and ".join(ensemble.PRESETS["ensemble"].members)
    assert any(f"averages {members}" in c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) == COMPARISON_CHARTS  # no curves

    at.session_state["diagnostics_section"] = "MNIST test set"
    at.run()
    assert len(table_with(at, "precision")) == 12 and any(" read as " in m.value for m in at.markdown)
    assert len(at.get("vega_lite_chart")) == 1 + COMPARISON_CHARTS  # the confusion matrix
    assert len(at.get("image")) == 1  # the mistakes, on one sheet


@pytest.mark.parametrize("name", models.SHIPPED + ("keras-cnn-mnist",))
def test_diagnostics_shows_drawn_digit_accuracy_beside_mnist(monkeypatch, name):
    drawn = reports.read_drawn_results(models.MODELS_DIR)["models"][name]
    mnist = json.loads((models.model_dir(name) / "report.json").read_text())["test"]
    at = diagnostics(monkeypatch, name)
    assert at.metric[0].value == f"{mnist['accuracy']:.2%}"
    assert at.metric[1].value == f"{drawn['accuracy']:.2%}"
    worst = reports.confusion_sentences(drawn["confusion_matrix"], k=1)[0]  # e.g. '1 read as 7: 195 times'
    assert any("drawn digits" in c.value and worst in c.value for c in at.caption)


def test_diagnostics_compares_the_source_projects_variants(monkeypatch):
    at = app(monkeypatch)
    at.switch_page(DIAGNOSTICS).run()
    table = next(d.value for d in at.dataframe if "what" in d.value.columns)
    assert list(table.columns) == ["model", "test accuracy", "what"]  # the key column, seen without scrolling
    variants = ("keras-mlp-rmsprop", "keras-mlp-sgd", "keras-mlp-dropout", "keras-mlp-batchnorm", "numpy-mlp-source")
    assert {models.label_of(n) for n in variants} <= set(table["model"])
    assert table["test accuracy"].between(50, 100).all()  # percentages, as everywhere on the page
    assert (table["what"].str.len() > 0).all()  # every variant says what it is


def test_diagnostics_offers_the_chosen_models_report_as_a_png_download(monkeypatch):
    at = diagnostics(monkeypatch, "keras-mlp")
    assert not at.exception
    assert at.download_button(key="report_png_keras-mlp").label == "Download the report, PNG"


def test_diagnostics_offers_the_report_download_where_the_png_is_missing_and_writes_nothing(monkeypatch, model_copy):
    """A Train page run's or a taught model's folder has no report.png: the download draws it on click."""
    (model_copy / "keras-mlp" / reports.FIGURE).unlink()
    before = sorted(p.name for p in (model_copy / "keras-mlp").iterdir())
    at = diagnostics(monkeypatch, "keras-mlp", models_dir=model_copy)
    assert not at.exception and at.metric  # the rest of the page is there
    assert at.download_button(key="report_png_keras-mlp").label == "Download the report, PNG"
    assert sorted(p.name for p in (model_copy / "keras-mlp").iterdir()) == before  # drawn on click, never written


def test_a_model_without_reports_gets_a_message_and_the_command(monkeypatch, model_copy):
    (model_copy / "keras-mlp" / "report.json").unlink()
    at = diagnostics(monkeypatch, "keras-mlp", models_dir=model_copy)
    assert not at.exception
    assert "python train.py keras-mlp" in at.warning[0].value


def explanation_script(name: str) -> None:
    """The Draw page's explanation of one real MNIST test digit, as the page calls it."""
    from mnist_app import models
    from mnist_app.data import load_npz, to_float
    from mnist_app.ui import explanation

    from scaffold import SAMPLE

    model = models.load(name)
    digit = to_float(load_npz(SAMPLE).x_test[:1])[0]
    explanation.show(model, digit, models.read(model.predict_proba(digit[None])[0]))


@pytest.mark.parametrize("name, pictures", [("numpy-mlp", 3), ("keras-mlp", 2), ("keras-cnn", 3), ("ensemble", 3)])
def test_the_explanation_opens_with_its_toggle_and_renders_for_each_model(name, pictures):
    at = AppTest.from_function(explanation_script, args=(name,), default_timeout=120).run()
    assert not at.get("image")  # closed until asked for
    at.toggle(key="explain").set_value(True).run()
    assert not at.exception and not at.error
    assert len(at.get("image")) == pictures  # the map, the contrast with the runner-up, what it looks at
    evidence, contrast, looks = (m.value for m in at.markdown)  # each panel's title, as text above it
    assert evidence == "**What made it say 7**" and contrast.startswith("**Why 7 and not ") and "looks at" in looks
    assert any("runner-up" in c.value for c in at.caption)
    if pictures == 2:  # an MLP has no convolution to show: it says so, once, and the other two views stay
        assert "no convolution" in at.info[0].value and len(at.caption) == 2


def test_diagnostics_shows_mnist_drawn_worst_writer_and_calibration_side_by_side(monkeypatch):
    drawn = reports.read_drawn_results(models.MODELS_DIR)["models"]["ensemble"]
    at = diagnostics(monkeypatch, "ensemble")  # its first tab
    assert not at.exception
    table = table_with(at, "measure")
    rows = dict(zip(table["measure"], table["value"], strict=True))
    assert rows["drawn accuracy"] == f"{drawn['accuracy']:.2%}"
    assert f"writer {drawn['worst_writer']['writer']}" in rows["worst writer"]
    assert "ECE before -> after" in rows and "calibration fit: ECE before -> after" in rows
    assert any("Temperature" in c.value and "unsure below" in c.value for c in at.caption)


def test_diagnostics_of_a_comparison_says_it_is_not_calibrated_because_the_app_does_not_read_with_it(monkeypatch):
    at = diagnostics(monkeypatch, "keras-cnn-mnist")  # its first tab: drawn digits and confidence
    assert not at.exception
    assert "a comparison" in at.info[0].value and "train.py" not in at.info[0].value


def test_diagnostics_draws_only_the_comparisons_picked(monkeypatch):
    at = app(monkeypatch)
    at.switch_page(DIAGNOSTICS).run()
    picker = at.multiselect(key="compared_models")
    assert len(picker.value) == len(picker.options) >= 11  # every line at first
    picker.set_value([models.label_of("keras-mlp-sigmoid")]).run()  # the one binary cross-entropy
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 1 + 1 + 1  # the reliability diagram; accuracy, and its one kind of loss
    at.multiselect(key="compared_models").set_value([]).run()
    assert "Pick the models" in at.info[-1].value and len(at.get("vega_lite_chart")) == 1


def test_diagnostics_shows_a_fine_tunes_curves_from_the_model_it_started_from(monkeypatch):
    at = diagnostics(monkeypatch, "keras-cnn", "Training curves")
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 2 + COMPARISON_CHARTS  # loss and accuracy, each with the rule
    start = len(reports.read_history(models.model_dir("keras-cnn-mnist"))["loss"])
    whole = f"epochs 1-{start} as {models.label_of('keras-cnn-mnist')}, then epoch {start + 1} fine-tuned as Keras CNN"
    assert any(whole in c.value for c in at.caption)
    assert all('"type": "rule"' in chart.proto.spec for chart in at.get("vega_lite_chart")[:2])
