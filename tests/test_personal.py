"""Teach your handwriting: a copy of a shipped model, fine-tuned on a few drawings, honours the model contract,
never touches models/, is deterministic, and refuses bad input and held-out writers."""

import hashlib
import time

import numpy as np
import pytest

from mnist_app import data, models, reports
from mnist_app.models.kinds import preset
from mnist_app.models.prototypes import Blend, Prototyped, distances, features, spacing
from mnist_app.training import jobs, personal
from mnist_app.training.personal import Recipe, fine_tune

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


@pytest.fixture(scope="module")
def taught(drawings):
    """Each model taught the drawings (QUICK) once for the module, and whether models/ was as before afterwards."""
    done = {}

    def teach(name: str) -> tuple[models.Model, bool]:
        if name not in done:
            before = fingerprint(models.MODELS_DIR)
            model = fine_tune(name, *drawings, QUICK)
            done[name] = (model, fingerprint(models.MODELS_DIR) == before)
        return done[name]

    return teach


@pytest.mark.parametrize("name", models.SHIPPED)
def test_a_taught_model_honours_the_contract_and_never_writes_into_models(name, drawings, taught):
    model, models_untouched = taught(name)
    probs = model.predict_proba(drawings[0])
    assert probs.shape == (30, 10) and np.allclose(probs.sum(axis=1), 1.0)
    assert model.label == f"{models.label_of(name)} + your handwriting"
    assert model.unsure_below == models.load(name).unsure_below  # the shipped calibration is kept
    with pytest.raises(ValueError):
        model.predict_proba(drawings[0] * 2)
    assert models_untouched


def test_teaching_moves_the_model_towards_the_drawings(drawings):
    images, labels = drawings
    strange = np.ascontiguousarray(np.rot90(images, axes=(1, 2)))  # lying on their side: most are read wrong
    base = models.load("numpy-mlp")
    taught = fine_tune("numpy-mlp", strange, labels, Recipe(epochs=10, learning_rate=1e-3, repeats=8, replay=2))
    right = lambda model: np.mean(model.predict_proba(strange).argmax(1) == labels)  # noqa: E731
    assert right(taught) > right(base) + 0.3


@pytest.mark.parametrize("name", ["numpy-mlp", "keras-mlp"])
def test_teaching_is_deterministic_needs_no_mnist_and_replays_the_same_digits_everywhere(name, monkeypatch, tmp_path):
    """Taught twice with the same seed, once where MNIST is and once on a machine without it: the same network."""
    shipped = data.load_replay()  # real digits: MNIST's first test digits, shipped beside the replay
    x, y = shipped.x_test.astype(np.float32) / 255, shipped.y_test.astype(np.int64)
    picked = np.concatenate([np.flatnonzero(y == d)[:3] for d in range(10)])
    with_mnist = fine_tune(name, x[picked], y[picked], QUICK).predict_proba(x[:200])
    monkeypatch.delenv("MNIST_DATA", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty home: no Keras cache either
    with pytest.raises(data.MnistDataError, match="MNIST is not on this machine"):
        data.local_source()
    taught = fine_tune(name, x[picked], y[picked], QUICK)
    np.testing.assert_allclose(taught.predict_proba(x[:200]), with_mnist, atol=1e-6)
    assert np.mean(taught.predict_proba(x[:200]).argmax(axis=1) == y[:200]) > 0.95


def test_a_taught_ensemble_is_its_members_taught_and_saves_as_a_models_folder(drawings, taught, tmp_path):
    ensemble, _ = taught("ensemble")
    assert [m.name for m in ensemble.network.members] == list(preset("ensemble").members)
    assert all(m.label.endswith("+ your handwriting") for m in ensemble.network.members)
    personal.save(ensemble, tmp_path)
    again = models.load("ensemble", tmp_path)
    np.testing.assert_allclose(again.predict_proba(drawings[0]), ensemble.predict_proba(drawings[0]), atol=1e-5)


def test_the_kept_drawings_change_nothing_far_from_them(drawings, mnist_sample):
    images, labels = drawings
    taught = fine_tune("numpy-mlp", images, labels, KEEPING)
    alone = fine_tune("numpy-mlp", images, labels, QUICK)  # the same network, nothing kept
    others = mnist_sample.x_train[:300].astype(np.float32) / 255
    protos = features(images, 0.0)
    far = distances(features(others, 0.0), protos).min(axis=1) >= spacing(protos)
    assert far.sum() > 30  # not a vacuous test: some digits lie beyond the reach
    np.testing.assert_allclose(taught.predict_proba(others)[far], alone.predict_proba(others)[far], atol=1e-12)
    assert np.all(taught.predict_proba(images).argmax(axis=1) == labels)  # each drawing is read as it was taught


@pytest.mark.parametrize("name", ["numpy-mlp", "ensemble"])
def test_a_taught_model_saves_and_loads_with_its_drawings(name, drawings, tmp_path):
    taught = fine_tune(name, *drawings, KEEPING)
    personal.save(taught, tmp_path)
    assert (models.model_dir(name, tmp_path) / "prototypes.npz").is_file()
    again = personal.load_taught(name, tmp_path)
    assert isinstance(again.network, Prototyped)
    np.testing.assert_allclose(again.predict_proba(drawings[0]), taught.predict_proba(drawings[0]), atol=1e-5)


def test_the_drawings_alone_keep_the_shipped_network(drawings):
    images, labels = drawings
    kept = fine_tune("numpy-mlp", images, labels, Recipe(epochs=0, blend=Blend()))
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
def test_bad_input_is_refused_naming_the_problem(images, labels, problem):
    with pytest.raises(ValueError, match=problem):
        fine_tune("numpy-mlp", images, labels, QUICK)


def test_fewer_than_one_of_each_digit_is_allowed(drawings):
    images, labels = drawings
    sevens = labels == 7
    taught = fine_tune("numpy-mlp", np.repeat(images[sevens], 4, axis=0), np.repeat(labels[sevens], 4), QUICK)
    assert taught.predict_proba(images).shape == (30, 10)


def test_the_recipe_is_never_chosen_on_held_out_writers():
    assert personal.check_tuning_writers([16, 17, 18, 19, 20]) == [16, 17, 18, 19, 20]
    with pytest.raises(ValueError, match=r"writers \[21, 30\] are held out"):
        personal.check_tuning_writers([16, 21, 30])


def test_teaching_runs_as_a_job_and_measures_on_drawings_it_did_not_teach(drawings, monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DATA", str(tmp_path / "nowhere"))  # the job needs no MNIST: it replays what ships
    job = jobs.submit_teach("numpy-mlp", *drawings, "me")
    deadline = time.monotonic() + 600  # ends when the run does: niced runs crawl while the suite loads both cores
    while (job := jobs.read(job)).status in (jobs.QUEUED, jobs.RUNNING) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.status == jobs.FINISHED, job.message
    taught = reports.read(job.model_folder).report["teach"]
    assert (taught["drawings"], taught["taught_first"], taught["measured"]) == (30, 20, 10)  # every third kept out
    assert 0 <= taught["yours_before"] <= 1 and 0 <= taught["yours_after"] <= 1 and taught["mnist_digits"] == 2000
    assert sum(n for _, _, n in taught["per_digit"].values()) == 10
    model = jobs.load_model(job)
    assert model.label == "NumPy MLP (from scratch) + your handwriting"
    assert model.predict_proba(drawings[0]).shape == (30, 10)


def test_only_a_shipped_model_can_be_taught(drawings):
    with pytest.raises(ValueError, match="cannot be taught"):
        jobs.submit_teach("keras-mlp-sgd", *drawings, "me")
