import json
import sys
from dataclasses import asdict

import numpy as np
import pytest

from mnist_app.data import split_validation, to_float
from mnist_app.models import numpy_net
from mnist_app.models.numpy_net import (
    NumpyMLP,
    NumpyMLPConfig,
    backward,
    cross_entropy,
    forward,
    init_params,
    train,
)


def loss_of(params, x, onehot):
    return cross_entropy(forward(params, x)[0], onehot)


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    params = {k: v.astype(np.float64) for k, v in init_params(16, "he", rng).items()}
    x = rng.uniform(size=(5, 784))
    onehot = np.eye(10)[rng.integers(0, 10, 5)]
    probs, hidden = forward(params, x)
    grads = backward(params, x, hidden, probs, onehot)
    eps = 1e-6
    for name, param in params.items():
        for index in [tuple(rng.integers(0, s) for s in param.shape) for _ in range(6)]:
            saved = param[index]
            param[index] = saved + eps
            plus = loss_of(params, x, onehot)
            param[index] = saved - eps
            minus = loss_of(params, x, onehot)
            param[index] = saved
            assert grads[name][index] == pytest.approx((plus - minus) / (2 * eps), rel=1e-4, abs=1e-8), name


def test_softmax_rows_sum_to_one_even_for_huge_logits():
    params = init_params(8, "he", np.random.default_rng(0))
    probs, _ = forward(params, np.full((3, 784), 1e4, np.float32))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert np.isfinite(probs).all()


def test_a_short_run_on_5000_real_digits_learns(mnist_sample):
    x, y = to_float(mnist_sample.x_train), mnist_sample.y_train
    x_test, y_test = to_float(mnist_sample.x_test), mnist_sample.y_test
    config = NumpyMLPConfig(epochs=2, hidden=512, optimizer="adam", learning_rate=1e-3, batch_size=32)
    model, history = train(config, x, y, x_test[:200], y_test[:200], log=lambda _: None)
    assert history["val_accuracy"][0] >= 0.85  # after one epoch
    assert np.mean(model.predict_proba(x_test).argmax(1) == y_test) >= 0.90  # after two
    assert history["loss"][1] < history["loss"][0]


def test_the_source_configuration_learns_in_one_epoch(mnist_sample):
    """784-128-10, SGD 0.01, batch 32, small initial weights: slow, but learning."""
    x_tr, y_tr, x_val, y_val = split_validation(mnist_sample.x_train, mnist_sample.y_train, 0.1, 0)
    config = NumpyMLPConfig(epochs=1, init="small")
    _, history = train(config, to_float(x_tr), y_tr, to_float(x_val), y_val, log=lambda _: None)
    assert history["val_accuracy"][0] > 0.5


def test_training_is_deterministic_for_a_seed(mnist_sample):
    x, y = to_float(mnist_sample.x_train[:1000]), mnist_sample.y_train[:1000]
    runs = [
        train(NumpyMLPConfig(epochs=1, hidden=16, seed=3), x, y, x[:100], y[:100], log=lambda _: None) for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0][0].params["W1"], runs[1][0].params["W1"])
    assert runs[0][1] == runs[1][1]


class CrashAfter(numpy_net.TrainingListener):
    """A worker that dies once `epochs` epochs have ended (the trainer has saved its state by then)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def on_epoch(self, epoch, scores):
        if epoch + 1 == self.epochs:
            raise SystemExit("the worker died")


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_a_run_that_died_goes_on_from_its_last_epoch_and_ends_as_if_it_never_stopped(tmp_path, mnist_sample, optimizer):
    x, y = to_float(mnist_sample.x_train[:1000]), mnist_sample.y_train[:1000]
    config = NumpyMLPConfig(epochs=4, hidden=16, optimizer=optimizer, schedule="cosine", learning_rate=0.01)
    whole, whole_history = train(config, x, y, x[:100], y[:100], log=lambda _: None)
    with pytest.raises(SystemExit):
        train(config, x, y, x[:100], y[:100], log=lambda _: None, listener=CrashAfter(2), state=tmp_path)
    heard = []
    listener = type("Heard", (numpy_net.TrainingListener,), {"on_epoch": lambda self, e, s: heard.append(e)})()
    resumed, history = train(config, x, y, x[:100], y[:100], log=lambda _: None, listener=listener, state=tmp_path)
    assert heard == [2, 3]  # only the epochs the dead worker had not finished are trained again
    assert history == whole_history
    for name, weights in whole.params.items():
        np.testing.assert_array_equal(resumed.params[name], weights)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_every_optimizer_lowers_the_loss(mnist_sample, optimizer):
    x, y = to_float(mnist_sample.x_train[:2000]), mnist_sample.y_train[:2000]
    config = NumpyMLPConfig(
        epochs=2, hidden=32, optimizer=optimizer, learning_rate=0.05 if optimizer == "sgd" else 1e-3, schedule="cosine"
    )
    _, history = train(config, x, y, x[:200], y[:200], log=lambda _: None)
    assert history["loss"][1] < history["loss"][0]


def test_save_and_load_predict_identically(tmp_path, mnist_sample):
    model = NumpyMLP(init_params(32, "he", np.random.default_rng(1)), NumpyMLPConfig(hidden=32))
    model.save(tmp_path / "model.npz")
    loaded = NumpyMLP.load(tmp_path / "model.npz")
    images = to_float(mnist_sample.x_test[:20])
    np.testing.assert_array_equal(model.predict_proba(images), loaded.predict_proba(images))
    assert loaded.config == model.config


def test_a_file_written_with_round_11s_train_top_loads_as_the_network_it_holds(tmp_path, mnist_sample):
    model = NumpyMLP(init_params(32, "he", np.random.default_rng(1)), NumpyMLPConfig(hidden=32))
    meta = {"format_version": numpy_net.FORMAT_VERSION, "config": asdict(model.config) | {"train_top": 0}}
    np.savez(tmp_path / "model.npz", meta=np.array(json.dumps(meta)), **model.params)
    loaded = NumpyMLP.load(tmp_path / "model.npz")
    images = to_float(mnist_sample.x_test[:20])
    np.testing.assert_array_equal(loaded.predict_proba(images), model.predict_proba(images))
    assert loaded.config == model.config


@pytest.mark.parametrize("bad", [{"optimizer": "lbfgs"}, {"hidden": 0}, {"learning_rate": -1.0}, {"schedule": "x"}])
def test_invalid_config_is_rejected(bad):
    with pytest.raises(ValueError):
        NumpyMLPConfig(**bad)


def test_numpy_network_never_imports_tensorflow():
    # a fresh interpreter: other tests in this process may have imported TensorFlow already
    import subprocess

    code = (
        "import sys, numpy as np; from mnist_app import preprocess, data; from mnist_app.models import numpy_net; "
        "from mnist_app.reports import metrics; from mnist_app.data import augment; "
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_progress_bar_redraws_in_place_and_ends_ready_for_the_epoch_line():
    import io

    stream = io.StringIO()
    bar = numpy_net.ProgressBar(stream, width=10)
    for done in range(1, 5):
        bar.on_batch(0, done, 4, 0.5, 0.9)
    assert stream.getvalue().count("\r") == 5 and "4/4 [==========] - loss 0.5000" in stream.getvalue()
