"""Both kinds of trainer report to one TrainingListener: every batch, every finished epoch, and a stop that keeps
the last finished epoch (the best one, with early stopping)."""

from dataclasses import replace

import numpy as np
import pytest

from mnist_app.contract import HISTORY_KEYS, TrainingData, TrainingListener
from mnist_app.models.keras_config import KerasConfig
from mnist_app.models.numpy_config import NumpyMLPConfig

KINDS = {
    "numpy": NumpyMLPConfig(hidden=16, optimizer="adam", learning_rate=1e-3, batch_size=50, epochs=3),
    "keras": KerasConfig(hidden=(16,), optimizer="adam", batch_size=50, epochs=3),
}


class Recorder(TrainingListener):
    """Hears everything; asks to stop at (epoch, batch) when told to."""

    def __init__(self, stop_at: tuple[int, int] | None = None):
        self.batches, self.epochs, self.stop_at, self.now = [], [], stop_at, (0, 0)

    def on_batch(self, epoch, done, batches, loss, accuracy):
        self.batches.append((epoch, done, batches))
        self.now = (epoch, done)
        assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0

    def on_epoch(self, epoch, scores):
        self.epochs.append((epoch, scores))

    def stop_requested(self):
        return self.stop_at is not None and self.now >= self.stop_at


@pytest.fixture(scope="module")
def data(mnist_sample) -> TrainingData:
    x = mnist_sample.x_train[:600].astype(np.float32) / 255
    y = mnist_sample.y_train[:600].astype(np.int64)
    return TrainingData(x[:500], y[:500], x[500:], y[500:])


def train(kind: str, config, data: TrainingData, listener: TrainingListener | None):
    from mnist_app.models.kinds import KINDS as TABLE

    row = next(k for k in TABLE if k.name == kind)
    return row.code().train_network(config, data, None, 0, listener)


def weights(network) -> list[np.ndarray]:
    params = getattr(network, "params", None)
    return [params[k] for k in sorted(params)] if params else network.model.get_weights()


@pytest.mark.parametrize("kind", KINDS)
def test_the_listener_hears_every_batch_and_every_epoch(kind, data):
    listener = Recorder()
    _, history = train(kind, KINDS[kind], data, listener)
    assert listener.batches == [(e, b, 10) for e in range(3) for b in range(1, 11)]
    assert [epoch for epoch, _ in listener.epochs] == [0, 1, 2]
    for key in HISTORY_KEYS:  # what it heard is the history
        assert [scores[key] for _, scores in listener.epochs] == pytest.approx(history[key])


@pytest.mark.parametrize("kind", KINDS)
def test_a_stop_mid_epoch_keeps_the_last_finished_epoch(kind, data):
    one_epoch, _ = train(kind, replace(KINDS[kind], epochs=1), data, None)
    stopped, history = train(kind, KINDS[kind], data, Recorder(stop_at=(1, 4)))
    assert len(history["loss"]) == 1  # the unfinished second epoch is left out
    for kept, reference in zip(weights(stopped), weights(one_epoch), strict=True):
        np.testing.assert_allclose(kept, reference, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_a_stop_at_an_epochs_end_ends_the_run_there(kind, data):
    _, history = train(kind, KINDS[kind], data, Recorder(stop_at=(0, 10)))
    assert len(history["loss"]) == 1


def test_numpy_early_stopping_keeps_the_epoch_with_the_lowest_validation_loss(data):
    config = replace(KINDS["numpy"], learning_rate=0.3, optimizer="sgd", epochs=12, early_stopping=2, batch_size=10)
    network, history = train("numpy", config, data, None)
    best = int(np.argmin(history["val_loss"]))
    assert len(history["loss"]) == best + 3  # patience 2: two epochs past the best, then it stops
    probs = network.predict_proba(data.x_val)
    loss = -np.mean(np.log(np.clip(probs[np.arange(len(data.y_val)), data.y_val], 1e-12, 1)))
    assert loss == pytest.approx(history["val_loss"][best], rel=1e-4)
