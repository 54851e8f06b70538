"""The table of model kinds: every name maps to one kind, each kind's module honours the same contract, and the
presets alone say what ships and in which order models are trained."""

import pytest

from mnist_app import models
from mnist_app.models import kinds

from scaffold import ROOT

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


@pytest.mark.parametrize("kind", kinds.KINDS, ids=lambda k: k.name)
def test_each_kind_ships_only_models_of_its_own_presets(kind):
    assert set(kind.shipped) <= set(kind.presets)


def test_the_models_the_app_ships_are_the_ones_the_presets_mark_and_no_list_of_their_own():
    assert models.SHIPPED is kinds.SHIPPED and len(set(kinds.SHIPPED)) == len(kinds.SHIPPED) > 0


@pytest.mark.parametrize("name", kinds.NAMES)
def test_a_model_needs_what_its_preset_starts_from_and_is_made_of(name):
    config = kinds.preset(name)
    expected = ((config.start_from,) if getattr(config, "start_from", "") else ()) + getattr(config, "members", ())
    assert kinds.needs(name) == expected and all(other in kinds.NAMES for other in expected)


def test_every_model_is_trained_after_what_it_starts_from_and_what_it_is_made_of():
    order = kinds.training_order(reversed(kinds.NAMES))  # the worst order to be given
    assert sorted(order) == sorted(kinds.NAMES)
    for name in order:
        assert all(order.index(other) < order.index(name) for other in kinds.needs(name)), name


def test_models_that_need_none_of_the_others_keep_the_order_given():
    needs = {"fine-tuned": ("base",), "base": (), "other": ()}.get
    assert kinds.training_order(["fine-tuned", "other", "base"], needs) == ("other", "base", "fine-tuned")


def test_what_a_model_needs_outside_the_names_given_is_left_to_be_trained_already():
    assert kinds.training_order(["ensemble"]) == ("ensemble",)


def test_presets_that_need_each_other_are_refused_naming_them():
    needs = {"a": ("b",), "b": ("c",), "c": ("a",), "d": ()}.get
    with pytest.raises(kinds.PresetCycleError, match="a needs b needs c needs a"):
        kinds.training_order(["d", "a", "b", "c"], needs)


def test_behind_a_model_is_all_it_needs_and_all_that_needs_in_turn():
    needs = {"ensemble": ("tuned", "other"), "tuned": ("base",), "base": (), "other": (), "unrelated": ()}.get
    assert set(kinds.behind(["ensemble"], needs)) == {"ensemble", "tuned", "other", "base"}


def test_behind_ends_even_where_presets_need_each_other():
    assert set(kinds.behind(["a"], {"a": ("b",), "b": ("a",)}.get)) == {"a", "b"}


def results_rows() -> dict[str, str]:
    """docs/results.md's first table row about each preset (its table of every model): model name -> the row."""
    rows = {}
    for line in (ROOT / "docs" / "results.md").read_text().splitlines():
        name = line.split("`")[1] if line.startswith("| `") else ""
        if name in kinds.NAMES:
            rows.setdefault(name, line)
    return rows


def test_the_results_table_names_models_on_mnist_only_so_the_next_test_has_something_to_check():
    assert any("on MNIST only" in row for row in results_rows().values())


@pytest.mark.parametrize("name", results_rows())
def test_a_model_is_labelled_mnist_only_where_the_results_say_it_is_on_mnist_only(name):
    assert kinds.preset(name).label.endswith("(MNIST only)") == ("on MNIST only" in results_rows()[name])
