"""Compare settings (training/sweeps.py): a recipe's variations are built, checked as any run's settings are, refused
whole (nothing queued) when one is out or they pass the visitor's share, and queued as runs sharing one comparison
id, trained by the embedded engine's real workers, with a results table at the end."""

import time

import pytest

from mnist_app.training import jobs, sweeps
from mnist_app.training.settings import DataSettings, SettingsError, defaults

from scaffold import wait_for_run

SMALL = defaults("numpy") | {"hidden": 32, "epochs": 3}  # as test_training_jobs.py's
DATA = DataSettings(digits=5000)
TINY = SMALL | {"hidden": 16, "epochs": 1}
FEW = DataSettings(digits=1000)  # the fewest digits the knobs allow: seconds per run


def test_one_knob_varied_gives_a_variation_per_value_differing_only_there():
    found = sweeps.check("numpy", SMALL, DATA, {"optimizer": ["adam", "sgd", "momentum"]})
    assert [v.difference for v in found] == ["optimizer adam", "optimizer sgd", "optimizer momentum"]
    for variation in found:
        assert variation.network == "numpy" and variation.values == SMALL | {"optimizer": variation.values["optimizer"]}


def test_two_knobs_varied_give_every_combination():
    found = sweeps.check(
        "keras-mlp", defaults("keras-mlp"), DATA, {"optimizer": ["adam", "sgd"], "batch_norm": [False, True]}
    )
    assert [v.difference for v in found] == [
        "optimizer adam, batchnorm off",
        "optimizer adam, batchnorm on",
        "optimizer sgd, batchnorm off",
        "optimizer sgd, batchnorm on",
    ]


def test_varying_the_network_keeps_each_ones_layers_and_carries_the_common_knobs():
    numpy, keras = sweeps.check("numpy", SMALL | {"optimizer": "sgd"}, DATA, {"network": ["numpy", "keras-mlp"]})
    assert numpy.values["hidden"] == 32 and keras.values["hidden"] == defaults("keras-mlp")["hidden"]
    assert keras.network == "keras-mlp" and keras.values["optimizer"] == "sgd" and keras.values["epochs"] == 3


def test_every_value_offered_for_a_knob_is_one_its_check_accepts():
    for knob in sweeps.variable_knobs("keras-mlp")[1:]:
        assert len(sweeps.check("keras-mlp", defaults("keras-mlp"), DATA, {knob: sweeps.choices(knob)[:2]})) == 2


@pytest.mark.parametrize(
    ("varied", "said"),
    [
        ({"optimizer": ["adam"]}, "at least two different values of Optimizer"),
        ({"optimizer": ["adam", "adam"]}, "at least two different values"),
        ({"learning_rate": [1e-3, 0.5]}, "Learning rate: 0.5 is not offered"),
        ({"dropout": [0.1, 0.2]}, "has no knob dropout"),
        ({"network": ["numpy", "resnet"]}, "unknown network 'resnet'"),
        ({"batch_size": [8, 16, 32], "learning_rate": [1e-4, 3e-4, 1e-3]}, "9 settings; a comparison runs 2 to 8"),
        ({}, "vary one or 2 knobs"),
    ],
)
def test_a_bad_comparison_is_refused_with_what_is_out_named_and_nothing_queued(url, varied, said):
    with pytest.raises(SettingsError, match=said):
        sweeps.submit("numpy", SMALL, DATA, varied, "me", url=url)
    assert jobs.list_jobs(url=url) == []


def test_a_bad_base_recipe_refuses_every_variation(url):
    with pytest.raises(SettingsError, match="this network takes 1 to 1"):
        sweeps.submit("numpy", SMALL | {"hidden": "128, 64"}, DATA, {"optimizer": ["adam", "sgd"]}, "me", url=url)
    assert jobs.list_jobs(url=url) == []


def test_a_comparison_counts_as_its_runs_against_the_visitors_share(url, monkeypatch):
    monkeypatch.setenv("MNIST_APP_RUNS_PER_VISITOR", "2")
    with pytest.raises(jobs.TooManyRuns, match="these 3 settings are 3 runs.*limit is 2 per person"):
        sweeps.submit("numpy", TINY, FEW, {"optimizer": ["adam", "sgd", "momentum"]}, "me", url=url)
    assert jobs.list_jobs(url=url) == []


def test_the_variations_train_as_runs_sharing_one_comparison_and_end_in_a_table(url):
    started = sweeps.submit("numpy", TINY, FEW, {"optimizer": ["adam", "sgd"]}, "me", url=url)
    assert len({run.comparison for run in started}) == 1 and started[0].comparison
    assert [run.label for run in started] == [
        "Run 1: NumPy MLP, written from scratch (optimizer adam)",
        "Run 2: NumPy MLP, written from scratch (optimizer sgd)",
    ]
    ended = [wait_for_run(run, (jobs.FINISHED, jobs.FAILED, jobs.STOPPED)) for run in started]
    assert [run.status for run in ended] == [jobs.FINISHED, jobs.FINISHED], [run.message for run in ended]
    grouped = sweeps.comparisons(jobs.list_jobs(owner="me", url=url))
    assert list(grouped) == [started[0].comparison] and not sweeps.active(grouped[started[0].comparison])
    table = sweeps.results(ended)
    assert [row["setting"] for row in table] == ["optimizer adam", "optimizer sgd"]
    for row in table:
        assert row["MNIST test"].endswith("%") and row["drawn, writers 21-30"].endswith("%")
        assert row["training time"].endswith(" s") and row["ended"] == jobs.FINISHED
    assert jobs.read(ended[0]).values["optimizer"] == "adam" and jobs.read(ended[1]).values["optimizer"] == "sgd"


def test_a_variation_that_waited_its_turn_longer_than_a_lost_run_would_still_trains(url):
    """With one worker, a comparison's last runs wait minutes: their task, once it starts, must not take its own
    run for one the engine lost (the worker cannot ask the app's engine what it holds)."""
    from datetime import UTC, datetime, timedelta

    from mnist_app.store.schema import TRAINING_RUNS
    from mnist_app.training import engine

    record = {"network": "numpy", "values": TINY, "data": {"digits": 1000, "augment": False, "pen": False}, "seed": 0}
    queued_at = datetime.now(UTC) - timedelta(seconds=10 * jobs.LOST_AFTER_S)
    row = {"owner": "me", "number": 1, "task": "train", "record": record, "status": "queued", "created_at": queued_at}
    with jobs.store(url).writing("add a run to") as conn:
        run_id = str(conn.execute(TRAINING_RUNS.insert().returning(TRAINING_RUNS.c.id), row).scalar_one())
    job = jobs.read(run_id, url, reap=False)
    engine.submit(
        "mnist_app.training.job_process:run_task", url, job.id, None, engine.task_env(), key=job.key, priority=0
    )
    deadline = time.monotonic() + 30
    while job.key not in engine.known([job.key]) and time.monotonic() < deadline:  # until then "lost" to a reader
        time.sleep(0.05)
    ended = wait_for_run(job, (jobs.FINISHED, jobs.STOPPED, jobs.FAILED))
    assert ended.status == jobs.FINISHED, ended.message
