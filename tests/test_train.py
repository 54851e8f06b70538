"""train.py, run as a user runs it: a subprocess on the real-MNIST sample."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from mnist_app.data import load_npz, to_float
from mnist_app.models.numpy_net import NumpyMLP

from scaffold import ROOT, SAMPLE, require, tiny_pen_env


def copy_with_twin(name: str, folder: Path) -> None:
    """Copy a shipped model and its tuning twin into a models folder."""
    from mnist_app import models

    for source, target in ((None, folder), (models.twins_dir(), models.twins_dir(folder))):
        shutil.copytree(models.model_dir(name, source), models.model_dir(name, target))


def run_train(*args, env=None, check=True, timeout=None):
    return subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        capture_output=True,
        text=True,
        check=check,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=timeout,
    )


def test_help_lists_the_models_and_options():
    out = run_train("--help").stdout
    for word in (
        "numpy",
        "keras-cnn",
        "keras-mlp-rmsprop",
        "all",
        "--epochs",
        "--batch-size",
        "--lr",
        "--seed",
        "--restyle",
        "--data",
        "--out",
    ):
        assert word in out


def test_numpy_model_writes_weights_history_and_report(tmp_path):
    out = run_train(
        "numpy-mlp-mnist", "--epochs", "2", "--no-augment", "--data", str(SAMPLE), "--out", str(tmp_path)
    ).stdout
    assert "Epoch 2/2" in out and "val_accuracy" in out
    folder = tmp_path / "comparisons" / "numpy-mlp-mnist"
    files = {"model.npz", "history.json", "report.json", "misclassified.npz", "report.png"}
    assert {p.name for p in folder.iterdir()} == files
    history = json.loads((folder / "history.json").read_text())
    assert all(len(history[k]) == 2 for k in ("loss", "accuracy", "val_loss", "val_accuracy"))
    report = json.loads((folder / "report.json").read_text())
    assert report["test"]["accuracy"] > 0.85 and report["data"]["n_test"] == 1000
    assert report["config"]["epochs"] == 2 and "numpy" in report["versions"]
    assert set(report["test"]["per_class"]) == {str(d) for d in range(10)}
    assert len(report["test"]["confusion_matrix"]) == 10


def test_same_seed_same_model(tmp_path):
    for run in ("a", "b"):
        run_train(
            "numpy-mlp-mnist",
            "--epochs",
            "1",
            "--hidden",
            "32",
            "--train-limit",
            "2000",
            "--no-figures",
            "--data",
            str(SAMPLE),
            "--out",
            str(tmp_path / run),
        )
    a, b = (NumpyMLP.load(tmp_path / run / "comparisons" / "numpy-mlp-mnist" / "model.npz") for run in ("a", "b"))
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not (tmp_path / "a" / "comparisons" / "numpy-mlp-mnist" / "report.png").exists()  # --no-figures


def test_the_report_says_what_the_model_was_trained_on(tmp_path):
    common = ("numpy-mlp-mnist", "--epochs", "1", "--hidden", "32", "--train-limit", "1000", "--no-figures")
    common += ("--data", str(SAMPLE))
    run_train(*common, "--restyle", "0.5", "--out", str(tmp_path / "styled"))
    run_train(*common, "--no-augment", "--out", str(tmp_path / "plain"))
    styled, plain = (
        json.loads((tmp_path / run / "comparisons" / "numpy-mlp-mnist" / "report.json").read_text())
        for run in ("styled", "plain")
    )
    assert styled["config"]["restyle"] == 0.5
    assert "distorted" in styled["data"]["train"] and "flagged 1s" in styled["data"]["train"]
    assert plain["data"]["train"] == "MNIST training digits"


def test_keras_source_mlp_trains_and_saves_a_loadable_model(tmp_path):
    run_train("keras-mlp-rmsprop", "--epochs", "3", "--no-figures", "--data", str(SAMPLE), "--out", str(tmp_path))
    from mnist_app import models

    model = models.load("keras-mlp-rmsprop", tmp_path)  # a comparison: under the models folder's comparisons/
    images = to_float(load_npz(SAMPLE).x_test[:100])
    report = json.loads((tmp_path / "comparisons" / "keras-mlp-rmsprop" / "report.json").read_text())
    assert model.predict_proba(images).shape == (100, 10)
    assert report["test"]["accuracy"] > 0.8 and report["config"]["optimizer"] == "rmsprop"


def test_fine_tuning_starts_from_the_trained_model(tmp_path):
    """keras-cnn is keras-cnn-mnist fine-tuned: one short epoch on 500 digits keeps it near its accuracy."""
    from mnist_app import models

    shutil.copytree(models.model_dir("keras-cnn-mnist"), tmp_path / "comparisons" / "keras-cnn-mnist")
    common = ("--epochs", "1", "--train-limit", "500", "--no-figures", "--data", str(SAMPLE), "--out", str(tmp_path))
    run_train("keras-cnn", *common, env=tiny_pen_env(tmp_path))
    report = json.loads((tmp_path / "keras-cnn" / "report.json").read_text())
    assert report["config"]["start_from"] == "keras-cnn-mnist"
    assert report["test"]["accuracy"] > 0.97  # from random weights, 450 digits once would give far less


def test_an_ensemble_is_reported_from_its_trained_members(tmp_path):
    from mnist_app import models
    from mnist_app.models import ensemble

    members = ensemble.PRESETS["ensemble"].members
    for name in members:
        copy_with_twin(name, tmp_path)
    run_train("ensemble", "--data", str(SAMPLE), "--out", str(tmp_path), env=tiny_pen_env(tmp_path))
    folder = tmp_path / "ensemble"
    files = {"ensemble.json", "history.json", "report.json", "misclassified.npz", "calibration.json", "report.png"}
    assert {p.name for p in folder.iterdir()} == files
    sample = load_npz(SAMPLE)
    probs = models.load("ensemble", tmp_path).predict_proba(to_float(sample.x_test))
    report = json.loads((folder / "report.json").read_text())
    assert report["test"]["accuracy"] == pytest.approx(np.mean(probs.argmax(1) == sample.y_test))
    assert report["config"]["members"] == list(members) and report["trains_itself"] is False
    assert all(name in report["data"]["train"] for name in members)
    member_reports = [json.loads((models.model_dir(m, tmp_path) / "report.json").read_text()) for m in members]
    behind = sorted({w for member in member_reports for w in member["data"]["pen_writers"]})
    assert behind and report["data"]["pen_writers"] == behind  # it names the pen writers its members trained on
    twin = json.loads((models.model_dir("ensemble", models.twins_dir(tmp_path)) / "report.json").read_text())
    assert twin["data"]["pen_writers"] == list(range(1, 16))  # its twin averages the members' twins
    assert json.loads((folder / "history.json").read_text())["loss"] == []  # no epochs of its own


def test_an_ensemble_without_its_members_says_what_to_train_first(tmp_path):
    result = run_train("ensemble", "--data", str(SAMPLE), "--out", str(tmp_path), check=False)
    assert result.returncode != 0
    assert "Retrain with: python train.py keras-cnn" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "ensemble").exists()


def test_fine_tuning_without_its_starting_model_says_what_to_train_first(tmp_path):
    result = run_train("keras-cnn", "--epochs", "1", "--data", str(SAMPLE), "--out", str(tmp_path), check=False)
    assert result.returncode != 0
    assert "Retrain with: python train.py keras-cnn-mnist" in result.stderr
    assert "Traceback" not in result.stderr


def test_figures_only_redraws_report_png_from_the_reports_without_data_or_training(tmp_path):
    from mnist_app import models

    folder = models.model_dir("numpy-mlp-mnist", tmp_path)
    shutil.copytree(models.model_dir("numpy-mlp-mnist"), folder)
    (folder / "report.png").unlink()
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    out = run_train("numpy-mlp-mnist", "--figures-only", "--out", str(tmp_path), env={"MNIST_DATA": "/nowhere"}).stdout
    assert str(folder / "report.png") in out
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "report.png"} == before
    assert (folder / "report.png").read_bytes().startswith(b"\x89PNG")


def test_a_missing_pen_digit_file_ends_in_one_line_naming_it_before_anything_trains(tmp_path):
    """numpy-mlp-mnist needs no pen digits, but numpy-mlp after it does: the run stops before either trains."""
    missing = tmp_path / "nowhere.tra"
    env = {"PENDIGITS": str(missing), "MNIST_APP_CACHE": str(tmp_path / "cache")}
    common = ("--epochs", "1", "--data", str(SAMPLE), "--out", str(tmp_path))
    result = run_train("numpy-mlp-mnist", "numpy-mlp", *common, env=env, check=False, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("train.py: ") and len(result.stderr.strip().splitlines()) == 1
    assert str(missing) in result.stderr and "PENDIGITS" in result.stderr and "numpy-mlp" in result.stderr
    assert not (tmp_path / "comparisons").exists() and "==" not in result.stdout


def test_a_missing_starting_model_ends_in_one_line_naming_it_before_any_pen_digit_is_drawn(tmp_path):
    from mnist_app import models

    env = tiny_pen_env(tmp_path)
    result = run_train(
        "numpy-mlp", "--epochs", "1", "--data", str(SAMPLE), "--out", str(tmp_path), env=env, check=False
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("train.py: ") and len(result.stderr.strip().splitlines()) == 1
    assert str(models.weights_path("numpy-mlp-mnist", tmp_path)) in result.stderr
    assert "Retrain with: python train.py numpy-mlp-mnist" in result.stderr
    assert not (tmp_path / "cache").exists()  # no pen digit was drawn for it


def test_no_data_gives_advice_not_a_traceback(tmp_path):
    result = run_train("numpy", "--data", str(tmp_path / "nowhere"), check=False)
    assert result.returncode != 0
    assert "MNIST_DATA" in result.stderr and "Traceback" not in result.stderr


def test_replay_remakes_the_shipped_replay_digits_from_mnist(tmp_path):
    from mnist_app import data

    require(bool(os.environ.get("MNIST_DATA")), "MNIST_DATA is not set (point it at ../shared/mnist)")
    out = run_train("replay", "--out", str(tmp_path)).stdout
    assert data.REPLAY_SHA256 in out
    remade = data.load_replay(tmp_path / data.REPLAY_FILE.name)
    np.testing.assert_array_equal(remade.x_train, data.load_replay().x_train)


def test_replay_from_a_sample_of_mnist_is_refused_in_one_line(tmp_path):
    result = run_train("replay", "--data", str(SAMPLE), "--out", str(tmp_path), check=False)
    assert result.returncode != 0 and "full MNIST" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "replay-digits.npz").exists()


def test_a_run_killed_mid_training_leaves_the_previous_model_intact(tmp_path):
    run_train(
        "numpy-mlp-mnist",
        "--epochs",
        "1",
        "--no-figures",
        "--hidden",
        "32",
        "--no-augment",
        "--data",
        str(SAMPLE),
        "--out",
        str(tmp_path),
    )
    folder = tmp_path / "comparisons" / "numpy-mlp-mnist"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    images = to_float(load_npz(SAMPLE).x_test[:50])
    expected = NumpyMLP.load(folder / "model.npz").predict_proba(images)

    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            str(ROOT / "train.py"),
            "numpy-mlp-mnist",
            "--epochs",
            "200",
            "--hidden",
            "32",
            "--no-augment",
            "--data",
            str(SAMPLE),
            "--out",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 120
    reached_epoch_2 = False
    while not reached_epoch_2 and time.monotonic() < deadline and process.poll() is None:
        reached_epoch_2 = "Epoch 2/200" in process.stdout.readline()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    assert reached_epoch_2, "training never got to its second epoch: the kill proved nothing"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    np.testing.assert_array_equal(NumpyMLP.load(folder / "model.npz").predict_proba(images), expected)


@pytest.mark.parametrize("model", ["nonsense", "keras-rnn"])
def test_unknown_model_is_refused_by_the_command_line(model):
    result = run_train(model, check=False)
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_all_is_the_shipped_models_and_every_model_they_start_from_or_average():
    import train
    from mnist_app import models
    from mnist_app.models import kinds

    everything = train.expand(["all"])
    needed = {other for name in everything for other in kinds.needs(name)}
    assert set(models.SHIPPED) <= set(everything) and needed <= set(everything)
    assert set(everything) - set(models.SHIPPED) <= needed  # nothing else: no comparison that nothing needs


def test_all_trains_each_model_after_what_it_starts_from_and_what_it_is_made_of():
    import train
    from mnist_app.models import kinds

    for asked in (["all"], ["compare", "all"], list(reversed(kinds.NAMES))):
        order = train.expand(asked)
        for name in order:
            assert all(order.index(other) < order.index(name) for other in kinds.needs(name) if other in order)


def test_presets_that_need_each_other_end_train_py_in_one_line_before_any_data_is_read(monkeypatch):
    import train
    from mnist_app.models import kinds

    tuned = {"numpy-mlp": "numpy-mlp-mnist", "numpy-mlp-mnist": "numpy-mlp"}  # each fine-tuned from the other
    monkeypatch.setattr(kinds, "preset", lambda name: SimpleNamespace(start_from=tuned.get(name, "")))
    monkeypatch.setattr(train, "load_mnist", lambda *_: pytest.fail("the data was read"))
    with pytest.raises(SystemExit, match="^train.py: no order can train presets that need each other: numpy-mlp"):
        train.main(["numpy-mlp", "numpy-mlp-mnist"])


def test_the_command_line_knows_every_preset_and_only_those():
    import train
    from mnist_app import models
    from mnist_app.models import kinds

    members = {member for name in models.SHIPPED for member in getattr(kinds.preset(name), "members", ())}
    assert set(train.CALIBRATED) == set(models.SHIPPED) | members  # the ensemble reads them tempered
    assert set(train.expand(["all", "compare"])) == set(kinds.NAMES)
    assert set(train.CHOICES) == set(kinds.NAMES) | set(train.ALIASES) | {train.REPLAY, train.NOT_A_DIGIT}  # and files


def test_same_seed_same_keras_model(tmp_path):
    for run in ("a", "b"):
        run_train(
            "keras-mlp-sgd",
            "--epochs",
            "1",
            "--train-limit",
            "1000",
            "--no-figures",
            "--data",
            str(SAMPLE),
            "--out",
            str(tmp_path / run),
        )
    reports = [
        json.loads((tmp_path / run / "comparisons" / "keras-mlp-sgd" / "history.json").read_text())
        for run in ("a", "b")
    ]
    assert reports[0] == reports[1]


def test_a_shipped_model_trains_on_writers_1_to_20_and_is_calibrated_through_a_twin_that_never_saw_16_to_20(
    tmp_path,
):
    from mnist_app import models
    from mnist_app.data import pen_training
    from mnist_app.models import calibration

    env = tiny_pen_env(tmp_path)  # 2 digits per writer, each drawn 6 times
    common = ("--epochs", "1", "--train-limit", "1000", "--no-figures", "--data", str(SAMPLE), "--out", str(tmp_path))
    run_train("numpy-mlp-mnist", "--no-augment", *common)
    out = run_train("numpy-mlp", *common, env=env).stdout
    shipped, twin = tmp_path / "numpy-mlp", models.twins_dir(tmp_path) / "numpy-mlp"
    report, twin_report = (json.loads((folder / "report.json").read_text()) for folder in (shipped, twin))
    assert report["config"]["start_from"] == twin_report["config"]["start_from"] == "numpy-mlp-mnist"
    assert report["data"]["pen_writers"] == list(range(1, 21)) and report["data"]["n_train"] == 900 + 40 * 6
    assert twin_report["data"]["pen_writers"] == list(range(1, 16)) and twin_report["data"]["n_train"] == 900 + 30 * 6
    assert "writers 1-20" in report["data"]["train"] and "canvas_to_mnist" in report["data"]["train"]
    assert set(pen_training.CALIBRATION_WRITERS).isdisjoint(twin_report["data"]["pen_writers"])
    fitted = calibration.load(shipped)
    assert fitted == calibration.load(twin) and fitted.temperature != 1.0
    assert "writers 16-20" in fitted.fitted_on and "tuning twin" in fitted.fitted_on
    assert report["calibration"] == twin_report["calibration"] and "ECE" in out
    assert report["calibration"]["ece_before"] == fitted.ece_before


@pytest.mark.parametrize(
    "twin_differs, refusal",
    [
        (lambda report: report["data"].update(pen_writers=list(range(1, 21))), "cannot calibrate on them"),
        (lambda report: report["config"].update(epochs=report["config"]["epochs"] + 1), "differ in more than"),
    ],
    ids=["twin-saw-the-calibration-writers", "twin-of-another-recipe"],
)
def test_calibration_refuses_a_twin_that_cannot_stand_for_the_model(tmp_path, twin_differs, refusal):
    from mnist_app import models

    copy_with_twin("numpy-mlp", tmp_path)
    twin_report = models.model_dir("numpy-mlp", models.twins_dir(tmp_path)) / "report.json"
    report = json.loads(twin_report.read_text())
    twin_differs(report)
    twin_report.write_text(json.dumps(report))
    result = run_train("numpy-mlp", "--calibrate-only", "--data", str(SAMPLE), "--out", str(tmp_path), check=False)
    assert result.returncode != 0 and refusal in result.stderr
