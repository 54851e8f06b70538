"""The ensemble: its members' readings of the digit, upright and turned, averaged behind the model contract."""

import json

import numpy as np
import pytest

from mnist_app import models
from mnist_app.data import to_float
from mnist_app.models import ensemble
from mnist_app.models.calibration import tempered


def test_the_ensemble_reads_the_mean_over_its_members_and_rotations(mnist_sample):
    images = to_float(mnist_sample.x_test[:64])
    config = ensemble.load_config(models.weights_path("ensemble"))
    readings = [
        models.load(m).predict_proba(ensemble.turned(images, r)) for m in config.members for r in config.rotations
    ]
    model = models.load("ensemble")
    probs = model.predict_proba(images)  # the mean, then the ensemble's own calibrated temperature
    np.testing.assert_allclose(probs, tempered(np.mean(readings, axis=0), model.temperature), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_a_long_batch_is_read_in_chunks_with_the_same_answers(mnist_sample):
    images = to_float(mnist_sample.x_test[: ensemble.CHUNK + 20])
    model = models.load("ensemble")
    np.testing.assert_allclose(model.predict_proba(images)[-20:], model.predict_proba(images[-20:]), atol=1e-6)


def test_the_shipped_ensemble_is_its_preset():
    assert ensemble.load_config(models.weights_path("ensemble")) == ensemble.PRESETS["ensemble"]


def test_a_turned_digit_keeps_its_format_and_turns_counter_clockwise():
    bar = np.zeros((1, 28, 28), dtype=np.float32)
    bar[0, 14, 4:24] = 1.0  # a level bar through the centre
    turned = ensemble.turned(bar, 30.0)
    assert turned.shape == bar.shape and turned.dtype == np.float32
    assert 0.0 <= turned.min() and turned.max() <= 1.0
    rows, cols = np.nonzero(turned[0] > 0.5)
    assert rows[cols.argmax()] < 14 < rows[cols.argmin()]  # its right end rose, its left end fell
    np.testing.assert_array_equal(ensemble.turned(bar, 0.0), bar)


def test_a_config_survives_saving_and_loading(tmp_path):
    config = ensemble.EnsembleConfig(members=("numpy-mlp", "keras-cnn"), rotations=(0, 5), description="two")
    ensemble.save_config(config, tmp_path / "ensemble.json")
    assert ensemble.load_config(tmp_path / "ensemble.json") == config


@pytest.mark.parametrize(
    "members, rotations, message",
    [
        (("keras-mlp",), (0,), "two or more readings"),
        ((), (0, 4), "two or more readings"),
        (("keras-mlp", "keras-mlp"), (0,), "different models"),
        (("ensemble", "keras-mlp"), (0,), "not ensembles"),
        (("keras-cnn",), (0, 0), "rotations must differ"),
        (("keras-cnn",), (0, 90), "within"),
    ],
)
def test_a_config_that_is_not_an_ensemble_is_refused(members, rotations, message):
    with pytest.raises(ValueError, match=message):
        ensemble.EnsembleConfig(members=members, rotations=rotations)


def test_an_ensemble_missing_a_member_is_not_offered_and_its_error_names_the_member(model_copy):
    member = ensemble.PRESETS["ensemble"].members[0]
    models.weights_path(member, model_copy).unlink()
    assert "ensemble" not in models.available(model_copy)
    assert "numpy-mlp" in models.available(model_copy)
    with pytest.raises(models.ModelLoadError, match=f"{member}.*python train.py {member}"):
        models.load("ensemble", model_copy)


def test_an_ensemble_file_from_another_format_version_is_a_model_load_error(model_copy):
    path = models.weights_path("ensemble", model_copy)
    path.write_text(json.dumps({**json.loads(path.read_text()), "format_version": 99}))
    assert "ensemble" not in models.available(model_copy)
    with pytest.raises(models.ModelLoadError, match="format version 99"):
        models.load("ensemble", model_copy)
