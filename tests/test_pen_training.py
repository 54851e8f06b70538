import json
import subprocess
import sys

import numpy as np
import pytest

import train
from mnist_app import models
from mnist_app.data import pen_training, pendigits

from scaffold import ROOT, tiny_pen_file


@pytest.mark.parametrize("writers", [[21], [5, 30], range(1, 31)])
def test_training_drawings_refuse_any_held_out_writer(tmp_path, writers):
    digits = pendigits.load(tiny_pen_file(tmp_path))
    with pytest.raises(ValueError, match="held out"):
        pen_training.drawings(digits, writers, variants=1, seed=0, workers=1)
    with pytest.raises(ValueError, match="held out"):
        pen_training.cached_drawings(writers, 1, 0, tiny_pen_file(tmp_path), cache=tmp_path / "cache")


def test_training_drawings_hold_only_the_asked_writers_each_drawn_variants_times(tmp_path):
    digits = pendigits.load(tiny_pen_file(tmp_path))
    images, labels, writers = pen_training.drawings(digits, [3, 7], variants=3, seed=0, workers=1)
    assert images.shape == (12, 28, 28) and images.dtype == np.float32
    assert set(writers.tolist()) == {3, 7} and np.bincount(writers)[[3, 7]].tolist() == [6, 6]
    expected = {d.label for d in digits if d.writer in (3, 7)}
    assert set(labels.tolist()) == expected
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert not np.allclose(images[0], images[4])  # the same digit's variants differ


def test_cached_drawings_come_back_the_same_from_the_cache(tmp_path):
    path, cache = tiny_pen_file(tmp_path), tmp_path / "cache"
    first = pen_training.cached_drawings([1, 2], 2, 0, path, cache)
    assert len(list(cache.glob("*.npz"))) == 1
    second = pen_training.cached_drawings([1, 2], 2, 0, path, cache)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_no_preset_trains_on_held_out_writers_and_the_twins_leave_the_calibration_writers_out():
    from mnist_app.models import kinds

    for name in kinds.NAMES:  # an ensemble trains on nothing of its own
        pendigits.check_trainable(getattr(kinds.preset(name), "pen_writers", ()))  # raises for a held-out writer
    assert set(pen_training.TRAINING_WRITERS) == pendigits.TUNING_WRITERS
    assert set(pen_training.TWIN_WRITERS) | set(pen_training.CALIBRATION_WRITERS) == pendigits.TUNING_WRITERS
    assert set(pen_training.TWIN_WRITERS).isdisjoint(pen_training.CALIBRATION_WRITERS)


@pytest.mark.parametrize("name", train.CALIBRATED)
def test_each_calibrated_model_has_a_committed_twin_of_its_recipe_that_never_saw_the_calibration_writers(name):
    from mnist_app import reports
    from mnist_app.models import calibration

    shipped, twin = models.model_dir(name), models.model_dir(name, models.twins_dir())
    assert reports.pen_writers_behind(name, models.twins_dir()) == list(pen_training.TWIN_WRITERS)
    assert train.recipe_of(reports.read_report(shipped)) == train.recipe_of(reports.read_report(twin))
    assert calibration.load(shipped) == calibration.load(twin) != calibration.Calibration()


@pytest.mark.parametrize("name", models.SHIPPED)
def test_shipped_models_report_training_writers_that_are_not_held_out(name):
    report = json.loads((models.model_dir(name) / "report.json").read_text())
    trained = set(report["data"]["pen_writers"])
    assert trained and trained.isdisjoint(pendigits.HELD_OUT_WRITERS)
    assert "pen digits" in report["data"]["train"] or "averages" in report["data"]["train"]


def test_the_drawn_digit_benchmark_refuses_writers_a_model_trained_on_and_reads_them_through_its_twin(tmp_path):
    def benchmark(*args):
        common = ("--writers", "16-20", "--models", "numpy-mlp", "--data", str(tiny_pen_file(tmp_path)))
        common += ("--json", str(tmp_path / "out.json"), "--picture", str(tmp_path / "misreads.png"))
        command = [sys.executable, str(ROOT / "benchmarks" / "drawn_digits.py"), *common, *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT)

    refused = benchmark()
    assert refused.returncode != 0 and "numpy-mlp on writers [16, 17, 18, 19, 20]" in refused.stderr
    assert not (tmp_path / "out.json").exists()
    through_twin = benchmark("--models-dir", str(models.twins_dir()))
    assert through_twin.returncode == 0, through_twin.stderr
    assert json.loads((tmp_path / "out.json").read_text())["models"]["numpy-mlp"]["per_writer"].keys() == {
        "16", "17", "18", "19", "20"
    }  # fmt: skip
