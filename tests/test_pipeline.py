"""The one training pipeline (issue 36): train.py, the Train page's runs and teaching fit and write through it."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mnist_app.data import Mnist
from mnist_app.models import Model
from mnist_app.models.kinds import kind_named
from mnist_app.training import pipeline
from mnist_app.training.settings import DataSettings, to_config

ROOT = Path(__file__).resolve().parents[1]


def tiny_mnist() -> Mnist:
    rng = np.random.default_rng(0)
    images = (rng.random((600, 28, 28)) * 40).astype(np.uint8)
    labels = np.arange(600) % 10
    for digit in range(10):  # a learnable mark per class
        images[labels == digit, digit * 2 : digit * 2 + 3, 5:20] = 255
    return Mnist(images[:500], labels[:500], images[500:], labels[500:], "made up")


def test_fit_and_write_leaves_a_whole_model_folder_that_loads(tmp_path):
    mnist = tiny_mnist()
    config = to_config("numpy", {"epochs": 2, "hidden": 16}, DataSettings(digits=1000))
    data = pipeline.training_data(mnist, config, 500, seed=0)
    out = tmp_path / "model"
    out.mkdir()
    (out / "stale.txt").write_text("from an older model")
    fitted = pipeline.fit_and_write(config, data, out, mnist, name="tiny", about={"train": "made-up digits"})
    assert len(fitted.history["loss"]) == 2 and fitted.report["test"]["accuracy"] > 0.5
    kind = kind_named(config.kind)
    assert {p.name for p in out.iterdir()} == {kind.weights_file, "history.json", "report.json", "misclassified.npz"}
    assert not (out / "stale.txt").exists() and not list(tmp_path.glob("*.partial")) + list(tmp_path.glob("*.old"))
    model = Model("tiny", kind.code().load_network(out / kind.weights_file))
    assert model.predict_proba(mnist.x_test[:3].astype(np.float32) / 255).shape == (3, 10)


def test_a_fit_stopped_before_its_first_epoch_writes_nothing(tmp_path):
    class StopAtOnce:
        def on_batch(self, *args):
            pass

        def on_epoch(self, *args):
            pass

        def stop_requested(self):
            return True

    mnist = tiny_mnist()
    config = replace(to_config("numpy", {"epochs": 2, "hidden": 16}, DataSettings(digits=1000)))
    data = pipeline.training_data(mnist, config, 500, seed=0)
    fitted = pipeline.fit_and_write(
        config, data, tmp_path / "model", mnist, name="tiny", about={}, listener=StopAtOnce()
    )
    assert fitted.report is None and not (tmp_path / "model").exists()


@pytest.mark.parametrize("path", ["train.py", "mnist_app/training/job_process.py"])
def test_train_py_the_runs_and_teaching_fit_and_write_through_the_pipeline_alone(path):
    source = (ROOT / path).read_text()
    assert "fit_and_write(" in source
    assert not re.search(r"\.train_network\(|write_reports\(|write_model\(|build_report\(", source)
