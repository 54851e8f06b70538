"""The table of model kinds: every name maps to one kind, and each kind's module honours the same contract."""

import pytest

from mnist_app import kinds
from mnist_app.testing import ROOT

CONTRACT = ("load_network", "train_network")


def test_every_model_name_belongs_to_exactly_one_kind():
    owners = [kind.name for kind in kinds.KINDS for _ in kind.presets]
    assert len(owners) == len(kinds.NAMES) == len(set(kinds.NAMES))


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: k.name)
def test_each_kinds_module_provides_the_whole_contract(kind):
    module = kind.code()
    assert all(callable(getattr(module, function, None)) for function in CONTRACT)


@pytest.mark.parametrize("name", kinds.NAMES)
def test_every_preset_records_its_kind_a_label_and_a_description(name):
    config = kinds.preset(name)
    assert config.kind == kinds.kind_of(name).name
    assert config.label and config.describe() and config.trained_on()


def test_an_unknown_name_is_an_error_that_lists_the_known_ones():
    with pytest.raises(kinds.UnknownModelError) as error:
        kinds.kind_of("keras-rnn")
    assert "keras-rnn" in str(error.value) and "numpy-mlp" in str(error.value)


@pytest.mark.parametrize("name", ["numpy-mlp-mnist", "keras-mlp-mnist", "keras-cnn-mnist"])
def test_the_mnist_only_models_are_labelled_as_the_readme_names_them(name):
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith(f"| `{name}` |"))
    assert kinds.preset(name).label.endswith("(MNIST only)") and "on MNIST only" in row
