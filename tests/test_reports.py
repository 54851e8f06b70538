"""Report files: what train.py writes is what the Diagnostics page reads."""

import numpy as np
import pytest

from mnist_app import reports
from mnist_app.contract import empty_history
from mnist_app.models import MODELS_DIR, model_dir, twins_dir
from mnist_app.models.kinds import NAMES, preset


@pytest.fixture
def written(tmp_path, mnist_sample):
    """Reports of a pretend model that reads the sample's test digits right except every tenth."""
    y = mnist_sample.y_test.astype(np.int64)
    probs = np.eye(10)[np.where(np.arange(len(y)) % 10 == 0, (y + 1) % 10, y)]
    config = preset("numpy-mlp")
    history = {**empty_history(), "loss": [1.0, 0.5], "accuracy": [0.8, 0.9], "val_loss": [0.9, 0.6]}
    history["val_accuracy"] = [0.85, 0.88]
    report = reports.build_report("numpy-mlp", config, y, probs, {"train": "MNIST"}, 12.3)
    reports.write_reports(tmp_path, history, report, reports.misclassified(mnist_sample.x_test, y, probs))
    return tmp_path, y, probs


def test_reports_round_trip_as_one_typed_object(written):
    folder, y, probs = written
    shown = reports.read(folder)
    assert shown.history["loss"] == [1.0, 0.5]
    assert shown.report["test"]["accuracy"] == pytest.approx(0.9)
    assert shown.report["kind"] == "numpy" and shown.report["config"]["description"] == preset("numpy-mlp").describe()
    assert len(shown.gallery["images"]) == min(reports.GALLERY_SIZE, int(np.sum(probs.argmax(1) != y)))
    assert (shown.gallery["true"] != shown.gallery["predicted"]).all()


@pytest.mark.parametrize("missing", ["history.json", "report.json", "misclassified.npz"])
def test_a_missing_report_file_is_a_report_missing_error_naming_it(written, missing):
    folder, _, _ = written
    (folder / missing).unlink()
    with pytest.raises(reports.ReportMissingError, match=missing):
        reports.read(folder)


def test_the_per_class_rows_end_with_macro_and_weighted_averages(written):
    rows = reports.per_class_rows(reports.read(written[0]).report)
    assert [row["class"] for row in rows][-2:] == ["macro avg", "weighted avg"]
    assert rows[-1]["support"] == sum(row["support"] for row in rows[:10])


def test_confusions_in_words_put_the_commonest_first():
    matrix = np.eye(10, dtype=int) * 50
    matrix[4, 9], matrix[7, 1], matrix[3, 5] = 12, 1, 3
    assert reports.confusion_sentences(matrix.tolist(), k=3) == [
        "4 read as 9: 12 times",
        "3 read as 5: 3 times",
        "7 read as 1: 1 time",
    ]


def test_every_shipped_and_comparison_model_folder_is_found_where_models_puts_it():
    found = reports.reported_models(MODELS_DIR)
    assert set(found) <= set(NAMES) and {"numpy-mlp", "keras-cnn-mnist"} <= set(found)
    assert all(folder == model_dir(name) for name, folder in found.items())


def test_measuring_a_model_on_writers_it_trained_on_is_refused_naming_them():
    with pytest.raises(reports.SeenWritersError, match=r"numpy-mlp on writers \[16, 20\].*tuning"):
        reports.refuse_seen_writers(["numpy-mlp"], MODELS_DIR, {16, 20, 25})
    reports.refuse_seen_writers(["numpy-mlp"], twins_dir(MODELS_DIR), {16, 20})  # its twin never saw them


def test_a_shipped_model_without_calibration_is_sent_to_a_refit_that_trains_nothing():
    note = reports.uncalibrated_note("keras-cnn")
    assert "python train.py keras-cnn --calibrate-only" in note and "50%" in note


@pytest.mark.parametrize("name", ["keras-cnn-mnist", "keras-mlp-sgd"])
def test_a_comparison_without_calibration_is_said_to_be_a_comparison_never_sent_to_retrain(name):
    note = reports.uncalibrated_note(name)
    assert "comparison" in note and "does not read" in note and "train.py" not in note


def test_a_fine_tunes_whole_history_is_its_starting_points_epochs_then_its_own():
    whole = reports.whole_history("keras-cnn", MODELS_DIR)
    start, own = (reports.read_history(model_dir(n)) for n in ("keras-cnn-mnist", "keras-cnn"))
    assert all(whole.history[key] == start[key] + own[key] for key in start)
    n = len(start["loss"])
    assert whole.stages == (
        reports.Stage("keras-cnn-mnist", 1, n, augmented=True),
        reports.Stage("keras-cnn", n + 1, n + len(own["loss"]), augmented=False),
    )


def test_a_model_trained_from_random_weights_is_its_own_whole_history():
    whole = reports.whole_history("keras-mlp-sgd", MODELS_DIR)
    assert whole.history == reports.read_history(model_dir("keras-mlp-sgd"))
    assert [stage.model for stage in whole.stages] == ["keras-mlp-sgd"]


def test_a_fine_tune_whose_starting_point_has_no_reports_shows_its_own_epochs(model_copy):
    (model_dir("numpy-mlp-mnist", model_copy) / "history.json").unlink()
    whole = reports.whole_history("numpy-mlp", model_copy)
    assert whole.history == reports.read_history(model_dir("numpy-mlp", model_copy))
    assert [stage.model for stage in whole.stages] == ["numpy-mlp"]
