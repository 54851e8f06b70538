"""Keras models: built from their configs, saved without optimizer state, reloaded in safe mode."""

import json
import zipfile

import numpy as np
import pytest

from mnist_app.contract import TrainingListener
from mnist_app.data import to_float
from mnist_app.models.keras_config import PRESETS, KerasConfig
from mnist_app.models.keras_models import KerasClassifier
from mnist_app.models.keras_training import EpochData, build_model, save, start_from, train


def test_keras_save_and_load_predict_identically(tmp_path, mnist_sample):
    model = build_model(PRESETS["keras-cnn"])
    save(model, tmp_path / "model.keras")
    images = to_float(mnist_sample.x_test[:16])
    np.testing.assert_allclose(
        KerasClassifier.load(tmp_path / "model.keras").predict_proba(images),
        KerasClassifier(model).predict_proba(images),
        rtol=1e-5,
        atol=1e-6,
    )
    with zipfile.ZipFile(tmp_path / "model.keras") as archive, archive.open("model.weights.h5") as weights:
        assert b"optimizer" not in weights.read()  # saved without optimizer state


def test_training_cannot_start_from_a_model_of_another_architecture():
    with pytest.raises(ValueError, match="different architecture"):
        start_from(build_model(PRESETS["keras-cnn"]), build_model(PRESETS["keras-mlp"]))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_a_model_from_digits_to_ten_probabilities(name):
    model = build_model(PRESETS[name])
    assert tuple(model.input_shape[1:]) == (28, 28) and tuple(model.output_shape[1:]) == (10,)


def test_a_config_refuses_an_unknown_optimizer_or_a_restyle_or_erase_ink_outside_zero_to_one():
    with pytest.raises(ValueError, match="optimizer"):
        KerasConfig(optimizer="adagrad")
    with pytest.raises(ValueError, match="restyle"):
        KerasConfig(restyle=1.5)
    with pytest.raises(ValueError, match="erase_ink"):
        KerasConfig(erase_ink=-0.1)


def test_training_batches_lose_ink_only_when_the_config_asks(mnist_sample):
    images = to_float(mnist_sample.x_train[:256])
    onehot = np.eye(10, dtype=np.float32)[mnist_sample.y_train[:256]]
    plain = EpochData(lambda epoch: images, onehot, batch_size=128, epochs=2, seed=0)
    erasing = EpochData(lambda epoch: images, onehot, batch_size=128, epochs=2, seed=0, erase=1.0)
    (x, y), (erased, same_y) = plain[0], erasing[0]
    np.testing.assert_array_equal(y, same_y)
    assert (erased <= x).all() and (erased < x).any(axis=(1, 2)).mean() > 0.8  # nearly every digit lost some ink
    np.testing.assert_array_equal(erased, erasing[0][0])  # seeded per batch: reproducible


def test_reading_the_presets_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys; from mnist_app.models import keras_config, kinds; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class Heard(TrainingListener):
    """Hears each finished epoch; a worker that dies once `crash_after` epochs have ended (saved by then)."""

    def __init__(self, crash_after=None):
        self.epochs, self.crash_after = [], crash_after

    def on_epoch(self, epoch, scores):
        self.epochs.append(epoch)
        if epoch + 1 == self.crash_after:
            raise SystemExit("the worker died")


def test_a_run_that_died_goes_on_from_its_last_epoch_with_its_history_weights_and_optimizer(tmp_path, mnist_sample):
    x, y = to_float(mnist_sample.x_train[:600]), mnist_sample.y_train[:600]
    config = KerasConfig(hidden=(32,), epochs=4, batch_size=64, optimizer="adam", schedule="cosine")
    split = (x[:500], y[:500], x[500:], y[500:])
    with pytest.raises(SystemExit):
        train(config, *split, tmp_path / "best.keras", verbose=0, listener=Heard(crash_after=2), state=tmp_path / "s")
    died_at = json.loads((tmp_path / "s" / "history.json").read_text())
    heard = Heard()
    model, history = train(config, *split, tmp_path / "best.keras", verbose=0, listener=heard, state=tmp_path / "s")
    assert heard.epochs == [2, 3]  # only the epochs the dead worker had not finished are trained again
    assert [history["loss"][:2], len(history["val_loss"])] == [[row["loss"] for row in died_at], 4]
    assert int(model.optimizer.iterations) == 4 * 8  # the optimizer went on counting steps (its schedule with it)
