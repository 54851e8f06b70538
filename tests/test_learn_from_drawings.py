"""Learning from and measuring on saved drawings: train.py --drawings and benchmarks/drawn_digits.py --drawings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mnist_app import models
from mnist_app.store.drawings import DrawingStore
from mnist_app.store.rows import split_by_session
from mnist_app.store.visitors import Visitor

from scaffold import ROOT, SAMPLE


@pytest.mark.parametrize("sessions", [2, 7, 40])
def test_split_by_session_never_puts_one_session_on_both_sides(sessions):
    ids = np.array([f"s{i % sessions}" for i in range(200)])
    train, val = split_by_session(ids, 0.2, seed=3)
    assert sorted([*train, *val]) == list(range(200))
    assert not set(ids[train]) & set(ids[val])
    assert len(set(ids[val])) == max(1, round(sessions * 0.2))


def test_split_by_session_of_one_session_keeps_it_all_for_training():
    train, val = split_by_session(np.array(["only"] * 5), 0.2)
    assert train.tolist() == [0, 1, 2, 3, 4] and val.size == 0


def test_split_by_session_is_the_same_for_the_same_seed():
    ids = np.array([f"s{i % 9}" for i in range(90)])
    assert split_by_session(ids, 0.3, 1)[1].tolist() == split_by_session(ids, 0.3, 1)[1].tolist()


@pytest.fixture
def saved(tmp_path, mnist_sample) -> str:
    """60 real MNIST test digits saved in 6 sessions of 10, in an SQLite store; its URL."""
    url = f"sqlite:///{tmp_path / 'drawings.sqlite'}"
    store = DrawingStore(url)
    for k in range(60):
        store.add(mnist_sample.x_test[k] / 255.0, int(mnist_sample.y_test[k]), visitor=Visitor.of(f"visit-{k // 10}"))
    store.close()
    return url


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(ROOT / script), *args], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_train_adds_saved_drawings_split_by_session_and_its_report_says_so(tmp_path, saved):
    result = run(
        "train.py", "numpy-mlp-mnist", "--epochs", "1", "--no-augment", "--train-limit", "500", "--data", str(SAMPLE),
        "--out", str(tmp_path / "models"), "--drawings", saved,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "models" / "comparisons" / "numpy-mlp-mnist" / "report.json").read_text())["data"]
    used = data["drawings"]
    assert used["n_train"] + used["n_validation"] == 60
    assert used["sessions_train"] + used["sessions_validation"] == 6 and used["sessions_validation"] >= 1
    assert used["n_validation"] == 10 * used["sessions_validation"]  # whole sessions of 10
    assert data["n_train"] == 450 + used["n_train"] and data["n_validation"] == 50 + used["n_validation"]
    assert "drawings saved in the app" in data["train"] and used["store"] == saved


def test_train_with_an_empty_store_says_there_is_nothing_to_add(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    result = run("train.py", "numpy", "--epochs", "1", "--data", str(SAMPLE), "--out", str(tmp_path), "--drawings", url)
    assert result.returncode != 0 and "no drawings are saved" in result.stderr


def test_train_with_an_unreachable_store_fails_with_the_password_hidden(tmp_path):
    url = "postgresql+psycopg://u:hunter2@127.0.0.1:1/none"
    result = run("train.py", "numpy", "--epochs", "1", "--data", str(SAMPLE), "--out", str(tmp_path), "--drawings", url)
    assert result.returncode != 0 and "u:***@127.0.0.1:1" in result.stderr and "hunter2" not in result.stderr


def test_the_benchmark_measures_every_model_named_on_saved_drawings(tmp_path, saved, mnist_sample):
    out = tmp_path / "stored.json"
    result = run(
        "benchmarks/drawn_digits.py", "--drawings", saved, "--models", "numpy-mlp",
        "--json", str(out), "--picture", str(tmp_path / "misreads.png"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(out.read_text())
    assert summary["drawings"]["store"] == saved and summary["n_digits"] == 60 and summary["drawings"]["sessions"] == 6
    images = mnist_sample.x_test[:60] / 255.0
    expected = float((models.load("numpy-mlp").predict_proba(images).argmax(1) == mnist_sample.y_test[:60]).mean())
    assert summary["models"]["numpy-mlp"]["accuracy"] == pytest.approx(expected)
    assert (tmp_path / "misreads.png").stat().st_size > 0
