"""The pages' cached model loader: one instance per model while its files stay the same, a fresh one once it is
retrained, so the Draw and Diagnostics pages never disagree (issue 24, 14)."""

import os
import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from mnist_app import models
from mnist_app.data import to_float
from mnist_app.models.kinds import preset
from mnist_app.ui import cache

MEMBERS = preset("ensemble").members


@pytest.fixture
def served(monkeypatch, model_copy):
    """The app's models folder is a writable copy, as a server started on it would see."""
    monkeypatch.setenv("MNIST_APP_MODELS", str(model_copy))
    return model_copy


def retrain(path, source=None) -> None:
    """What train.py leaves behind: the file replaced, with a later modification time."""
    if source:
        shutil.copy(source, path)
    later = path.stat().st_mtime_ns + 2_000_000_000
    os.utime(path, ns=(later, later))


def test_an_unchanged_model_is_loaded_once(served):
    assert cache.load_model("numpy-mlp") is cache.load_model("numpy-mlp")


def test_a_retrained_model_is_loaded_afresh(served, mnist_sample):
    images = to_float(mnist_sample.x_test[:50])
    before = cache.load_model("numpy-mlp")
    retrain(models.weights_path("numpy-mlp", served), models.weights_path("numpy-mlp-mnist", served))
    after = cache.load_model("numpy-mlp")
    assert after is not before
    np.testing.assert_allclose(after.predict_proba(images), models.load("numpy-mlp", served).predict_proba(images))
    assert not np.allclose(after.predict_proba(images), before.predict_proba(images))


def test_a_recalibrated_model_is_loaded_afresh(served):
    before = cache.load_model("numpy-mlp")
    retrain(models.model_dir("numpy-mlp", served) / "calibration.json")
    assert cache.load_model("numpy-mlp") is not before


def test_a_retrained_member_makes_the_ensemble_reassemble_and_keeps_the_other_member(monkeypatch, served):
    loaded = []

    def load(name, directory, load_member=None):  # records loads; no TensorFlow
        loaded.append(name)
        return SimpleNamespace(members=[load_member(m) for m in getattr(preset(name), "members", ())])

    monkeypatch.setattr(models, "load", load)
    before = cache.load_model("ensemble")
    assert loaded == ["ensemble", *MEMBERS] and cache.load_model("ensemble") is before
    retrain(models.weights_path(MEMBERS[1], served))
    after = cache.load_model("ensemble")
    assert after is not before and loaded[len(MEMBERS) + 1 :] == ["ensemble", MEMBERS[1]]
    assert after.members[0] is before.members[0] and after.members[1] is not before.members[1]
    assert cache.load_model(MEMBERS[1]) is after.members[1]  # the Draw page's model is the ensemble's member


def test_a_models_stamp_follows_its_own_files_and_its_members_only(served):
    before = {name: models.stamp(name, served) for name in models.SHIPPED}
    retrain(models.weights_path(MEMBERS[0], served))
    after = {name: models.stamp(name, served) for name in models.SHIPPED}
    assert after["ensemble"] != before["ensemble"]
    assert all(after[n] == before[n] for n in models.SHIPPED if n != "ensemble" and n not in MEMBERS)
