"""Teach your handwriting: a copy of a shipped model, fine-tuned on a few drawings, honours the model contract,
never touches models/, is deterministic, and refuses bad input and held-out writers."""

import hashlib
import time
from dataclasses import replace

import numpy as np
import pytest

from mnist_app import models, personal, reports
from mnist_app import training_jobs as jobs
from mnist_app.kinds import preset
from mnist_app.personal import Recipe, fine_tune
from mnist_app.prototypes import Blend, Prototyped, distances, features, spacing
from mnist_app.testing import SAMPLE

QUICK = Recipe(epochs=1, repeats=2, replay=2)
KEEPING = Recipe(epochs=1, repeats=2, replay=2, blend=Blend(k=1, weight=0.9, reach=1.0, blur=0.0))


@pytest.fixture(scope="module")
def drawings(mnist_sample):
    """30 real digits standing in for one person's drawings (3 of each digit), and their labels."""
    x, y = mnist_sample.x_test.astype(np.float32) / 255, mnist_sample.y_test.astype(np.int64)
    picked = np.concatenate([np.flatnonzero(y == d)[:3] for d in range(10)])
    return x[picked], y[picked]


def fingerprint(folder) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.mark.parametrize("name", models.SHIPPED)
def test_a_taught_model_honours_the_contract_and_never_writes_into_models(name, drawings, mnist_sample):
    before = fingerprint(models.MODELS_DIR)
    taught = fine_tune(name, *drawings, QUICK, mnist=mnist_sample)
    probs = taught.predict_proba(drawings[0])
    assert probs.shape == (30, 10) and np.allclose(probs.sum(axis=1), 1.0)
    assert taught.label == f"{models.label_of(name)} + your handwriting"
    assert taught.unsure_below == models.load(name).unsure_below  # the shipped calibration is kept
    with pytest.raises(ValueError):
        taught.predict_proba(drawings[0] * 2)
    assert fingerprint(models.MODELS_DIR) == before


@pytest.mark.parametrize("name", ["numpy-mlp", "keras-mlp"])
def test_teaching_is_deterministic_for_a_seed(name, drawings, mnist_sample):
    first = fine_tune(name, *drawings, QUICK, mnist=mnist_sample).predict_proba(drawings[0])
    again = fine_tune(name, *drawings, QUICK, mnist=mnist_sample).predict_proba(drawings[0])
    np.testing.assert_allclose(first, again, atol=1e-6)


def test_teaching_moves_the_model_towards_the_drawings(drawings, mnist_sample):
    images, labels = drawings
    strange = np.ascontiguousarray(np.rot90(images, axes=(1, 2)))  # lying on their side: most are read wrong
    base = models.load("numpy-mlp")
    taught = fine_tune(
        "numpy-mlp", strange, labels, Recipe(epochs=10, learning_rate=1e-3, repeats=8, replay=2), mnist=mnist_sample
    )
    right = lambda model: np.mean(model.predict_proba(strange).argmax(1) == labels)  # noqa: E731
    assert right(taught) > right(base) + 0.3


def weights(model) -> list[np.ndarray]:
    """A network's weight arrays, input side first (the NumPy MLP's W1, b1, W2, b2; a Keras model's, in its order)."""
    network = model.network
    return list(network.params.values()) if hasattr(network, "params") else network.model.get_weights()


@pytest.mark.parametrize("name", ["numpy-mlp", "keras-mlp"])
def test_a_share_below_one_keeps_the_weights_between_the_shipped_and_the_fine_tuned(name, drawings, mnist_sample):
    shipped = weights(models.load(name))
    full = weights(fine_tune(name, *drawings, QUICK, mnist=mnist_sample))
    halfway = fine_tune(name, *drawings, replace(QUICK, share=0.5), mnist=mnist_sample)
    assert any(not np.allclose(a, b) for a, b in zip(shipped, full, strict=True))  # teaching moved the weights
    for start, end, half in zip(shipped, full, weights(halfway), strict=True):
        np.testing.assert_allclose(half, (start + end) / 2, rtol=1e-5, atol=1e-6)
    assert halfway.predict_proba(drawings[0]).shape == (30, 10)


@pytest.mark.parametrize("name", ["numpy-mlp", "keras-mlp"])
def test_a_soup_is_the_average_of_fine_tunes_with_their_own_seeds(name, drawings, mnist_sample):
    first = weights(fine_tune(name, *drawings, QUICK, mnist=mnist_sample))
    second = weights(fine_tune(name, *drawings, replace(QUICK, seed=1), mnist=mnist_sample))
    souped = fine_tune(name, *drawings, replace(QUICK, soup=2), mnist=mnist_sample)
    assert any(not np.allclose(a, b) for a, b in zip(first, second, strict=True))  # the seeds taught differently
    for a, b, mean in zip(first, second, weights(souped), strict=True):
        np.testing.assert_allclose(mean, (a + b) / 2, rtol=1e-5, atol=1e-6)
    assert souped.predict_proba(drawings[0]).shape == (30, 10)


@pytest.mark.parametrize("name", ["numpy-mlp", "keras-mlp", "keras-cnn"])
def test_with_train_top_one_only_the_output_layer_learns(name, drawings, mnist_sample):
    shipped = weights(models.load(name))
    taught = weights(fine_tune(name, *drawings, replace(QUICK, train_top=1), mnist=mnist_sample))
    assert len(shipped) == len(taught) > 2
    for before, after in zip(shipped[:-2], taught[:-2], strict=True):  # every array below the output layer's
        np.testing.assert_array_equal(after, before)  # BatchNormalization's statistics too: it ran in inference mode
    for before, after in zip(shipped[-2:], taught[-2:], strict=True):  # the output layer's kernel and bias
        assert not np.allclose(after, before)


def test_a_taught_ensemble_is_its_members_taught_and_saves_as_a_models_folder(drawings, mnist_sample, tmp_path):
    taught = fine_tune("ensemble", *drawings, QUICK, mnist=mnist_sample)
    assert [m.name for m in taught.network.members] == list(preset("ensemble").members)
    assert all(m.label.endswith("+ your handwriting") for m in taught.network.members)
    personal.save(taught, tmp_path)
    again = models.load("ensemble", tmp_path)
    np.testing.assert_allclose(again.predict_proba(drawings[0]), taught.predict_proba(drawings[0]), atol=1e-5)


def test_the_kept_drawings_change_nothing_far_from_them(drawings, mnist_sample):
    images, labels = drawings
    taught = fine_tune("numpy-mlp", images, labels, KEEPING, mnist=mnist_sample)
    alone = fine_tune("numpy-mlp", images, labels, QUICK, mnist=mnist_sample)  # the same network, nothing kept
    others = mnist_sample.x_train[:300].astype(np.float32) / 255
    protos = features(images, 0.0)
    far = distances(features(others, 0.0), protos).min(axis=1) >= spacing(protos)
    assert far.sum() > 30  # not a vacuous test: some digits lie beyond the reach
    np.testing.assert_allclose(taught.predict_proba(others)[far], alone.predict_proba(others)[far], atol=1e-12)
    assert np.all(taught.predict_proba(images).argmax(axis=1) == labels)  # each drawing is read as it was taught


@pytest.mark.parametrize("name", ["numpy-mlp", "ensemble"])
def test_a_taught_model_saves_and_loads_with_its_drawings(name, drawings, mnist_sample, tmp_path):
    taught = fine_tune(name, *drawings, KEEPING, mnist=mnist_sample)
    personal.save(taught, tmp_path)
    assert (models.model_dir(name, tmp_path) / "prototypes.npz").is_file()
    again = personal.load_taught(name, tmp_path)
    assert isinstance(again.network, Prototyped)
    np.testing.assert_allclose(again.predict_proba(drawings[0]), taught.predict_proba(drawings[0]), atol=1e-5)


def test_the_drawings_alone_keep_the_shipped_network(drawings, mnist_sample):
    images, labels = drawings
    kept = fine_tune("numpy-mlp", images, labels, Recipe(epochs=0, blend=Blend()), mnist=mnist_sample)
    shipped = models.load("numpy-mlp").network
    np.testing.assert_array_equal(kept.network.network.predict_proba(images), shipped.predict_proba(images))
    assert kept.label == "NumPy MLP (from scratch) + your handwriting"


@pytest.mark.parametrize(
    ("images", "labels", "problem"),
    [
        (np.zeros((9, 28, 28), np.float32), np.zeros(9, int), "teaching takes 10 to 5000"),
        (np.zeros((12, 28, 28), np.float32), np.zeros(11, int), "one digit per image"),
        (np.zeros((12, 28, 28), np.float32), np.full(12, 10), "whole digits 0-9"),
        (np.zeros((12, 28, 28), np.float32), np.full(12, 1.5), "whole digits 0-9"),
        (np.zeros((12, 28, 27), np.float32), np.zeros(12, int), r"shape \(n, 28, 28\)"),
        (np.full((12, 28, 28), 255.0), np.zeros(12, int), r"\[0, 1\]"),
    ],
)
def test_bad_input_is_refused_naming_the_problem(images, labels, problem, mnist_sample):
    with pytest.raises(ValueError, match=problem):
        fine_tune("numpy-mlp", images, labels, QUICK, mnist=mnist_sample)


def test_fewer_than_one_of_each_digit_is_allowed(drawings, mnist_sample):
    images, labels = drawings
    sevens = labels == 7
    taught = fine_tune(
        "numpy-mlp", np.repeat(images[sevens], 4, axis=0), np.repeat(labels[sevens], 4), QUICK, mnist=mnist_sample
    )
    assert taught.predict_proba(images).shape == (30, 10)


@pytest.mark.parametrize("bad", [{"soup": 0}, {"train_top": -1}, {"share": 0.0}, {"share": 1.5}])
def test_a_recipe_that_cannot_teach_is_refused(bad):
    with pytest.raises(ValueError, match="a recipe needs"):
        Recipe(**bad)


def test_the_recipe_is_never_chosen_on_held_out_writers():
    assert personal.check_tuning_writers([16, 17, 18, 19, 20]) == [16, 17, 18, 19, 20]
    with pytest.raises(ValueError, match=r"writers \[21, 30\] are held out"):
        personal.check_tuning_writers([16, 21, 30])


def test_teaching_runs_as_a_job_and_measures_on_drawings_it_did_not_teach(drawings, monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DATA", str(SAMPLE))
    job = jobs.submit_teach("numpy-mlp", *drawings, "me")
    deadline = time.monotonic() + 120
    while (job := jobs.read(job.folder)).status in (jobs.QUEUED, jobs.RUNNING) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.status == jobs.FINISHED, job.message
    taught = reports.read(job.model_folder).report["teach"]
    assert (taught["drawings"], taught["taught_first"], taught["measured"]) == (30, 20, 10)  # every third kept out
    assert 0 <= taught["yours_before"] <= 1 and 0 <= taught["yours_after"] <= 1 and taught["mnist_digits"] == 1000
    assert sum(n for _, _, n in taught["per_digit"].values()) == 10
    model = jobs.load_model(job)
    assert model.label == "NumPy MLP (from scratch) + your handwriting"
    assert model.predict_proba(drawings[0]).shape == (30, 10)


def test_only_a_shipped_model_can_be_taught(drawings):
    with pytest.raises(ValueError, match="cannot be taught"):
        jobs.submit_teach("keras-mlp-sgd", *drawings, "me")
