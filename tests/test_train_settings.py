"""The Train page's knobs: every network's defaults make its kind's config; every limit is refused by name."""

import pytest

from mnist_app.models.keras_config import KerasConfig
from mnist_app.models.numpy_config import NumpyMLPConfig
from mnist_app.training import settings
from mnist_app.training.settings import DataSettings, SettingsError, to_config

from scaffold import tiny_pen_file


@pytest.mark.parametrize("network", settings.NETWORKS)
def test_each_networks_defaults_make_its_kinds_config(network):
    config = to_config(network, settings.defaults(network), DataSettings())
    assert type(config) is type(settings.NETWORKS[network].base)
    assert config.val_fraction == 0.1 and not config.pen_writers


def test_the_numpy_defaults_are_a_small_adam_network():
    config = to_config("numpy", settings.defaults("numpy"), DataSettings())
    assert isinstance(config, NumpyMLPConfig)
    assert (config.hidden, config.optimizer, config.learning_rate, config.epochs) == (128, "adam", 1e-3, 6)


def test_the_keras_mlp_defaults_are_the_first_source_projects_recipe():
    config = to_config("keras-mlp", settings.defaults("keras-mlp"), DataSettings())
    assert isinstance(config, KerasConfig)
    assert (config.hidden, config.optimizer, config.learning_rate) == ((512, 256, 128), "rmsprop", 1e-3)
    assert "784-512-256-128-10" in config.description


def test_knob_values_reach_the_config(monkeypatch, tmp_path):
    monkeypatch.setenv("PENDIGITS", str(tiny_pen_file(tmp_path)))
    values = settings.defaults("keras-mlp") | {"hidden": "64, 32", "activation": "tanh", "loss": "binary_crossentropy"}
    values |= {"optimizer": "momentum", "dropout": 0.25, "batch_norm": True, "early_stopping": 3}
    config = to_config("keras-mlp", values, DataSettings(digits=5000, augment=True, pen=True), seed=7)
    assert config.hidden == (64, 32) and config.activation == "tanh" and config.loss == "binary_crossentropy"
    assert (config.optimizer, config.dropout, config.batch_norm, config.early_stopping) == ("momentum", 0.25, True, 3)
    assert config.augment and config.seed == 7
    assert config.pen_writers == tuple(range(1, 21)) and config.pen_variants == settings.PEN_VARIANTS


def test_pen_drawings_without_the_pen_digits_file_are_refused_before_anything_is_queued(monkeypatch, tmp_path):
    monkeypatch.setenv("PENDIGITS", str(tmp_path / "nowhere.tra"))
    with pytest.raises(SettingsError, match="nowhere.tra is not there; set PENDIGITS"):
        to_config("numpy", settings.defaults("numpy"), DataSettings(pen=True))
    to_config("numpy", settings.defaults("numpy"), DataSettings(pen=False))  # without them the run goes on


@pytest.mark.parametrize(
    ("network", "knob", "value", "named"),
    [
        ("numpy", "epochs", settings.MAX_EPOCHS + 1, "Epochs"),
        ("numpy", "epochs", 0, "Epochs"),
        ("numpy", "learning_rate", 5.0, "Learning rate"),
        ("numpy", "learning_rate", float("nan"), "Learning rate"),
        ("numpy", "batch_size", 100_000, "Batch size"),
        ("numpy", "hidden", "128, 64", "this network takes 1 to 1"),
        ("keras-mlp", "hidden", "8 8 8 8 8", "this network takes 1 to 4"),
        ("keras-mlp", "hidden", "4096", "each width must be 1 to 2048"),
        ("keras-mlp", "hidden", "a lot", "whole numbers"),
        ("keras-mlp", "hidden", "2048, 2048", "the limit is 3,000,000"),
        ("keras-mlp", "dropout", 0.95, "Dropout"),
        ("keras-mlp", "optimizer", "lbfgs", "Optimizer"),
        ("keras-cnn", "hidden", "128", "has no knob hidden"),
    ],
)
def test_a_setting_out_of_its_limits_is_refused_naming_the_knob_and_limit(network, knob, value, named):
    with pytest.raises(SettingsError, match=named):
        to_config(network, settings.defaults(network) | {knob: value}, DataSettings())


@pytest.mark.parametrize("digits", [999, 60_001, 2.5, True])
def test_the_number_of_mnist_digits_is_limited(digits):
    with pytest.raises(SettingsError, match="MNIST digits"):
        to_config("numpy", settings.defaults("numpy"), DataSettings(digits=digits))


def test_an_unknown_network_is_refused():
    with pytest.raises(SettingsError, match="unknown network 'resnet'"):
        to_config("resnet", {}, DataSettings())


def test_parameters_count_weights_and_biases():
    config = to_config("numpy", settings.defaults("numpy"), DataSettings())
    assert settings.parameters(config) == 785 * 128 + 129 * 10


def test_weight_initialisation_and_the_validation_share_are_knobs_that_reach_the_config():
    values = settings.defaults("numpy") | {"init": "small", "val_fraction": 0.2, "optimizer": "sgd"}
    config = settings.to_config("numpy", values | {"learning_rate": 0.01, "batch_size": 32}, settings.DataSettings())
    assert (config.init, config.val_fraction, config.learning_rate, config.batch_size) == ("small", 0.2, 0.01, 32)
    assert "N(0, 0.01) init" in settings.describe("numpy", values)
    keras = settings.to_config("keras-mlp", settings.defaults("keras-mlp") | {"val_fraction": 0.3}, DataSettings())
    assert keras.val_fraction == 0.3
