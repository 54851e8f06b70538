"""Runs from the Train page: each trains in a process of its own, queues behind the others, stops when asked,
and never leaves a broken model or a run that shows as running forever."""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mnist_app import reports
from mnist_app.models import ModelLoadError
from mnist_app.store.visitors import NOBODY
from mnist_app.training import jobs
from mnist_app.training.settings import DataSettings, SettingsError, defaults

from scaffold import SAMPLE, tiny_pen_env

SMALL = defaults("numpy") | {"hidden": 32, "epochs": 3}
LONG = defaults("numpy") | {"hidden": 64, "epochs": 50, "batch_size": 8}  # seconds per epoch on 4,500 digits
DATA = DataSettings(digits=5000)


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A jobs folder of its own; MNIST from the shipped sample; a tiny pen-digit file and a private cache."""
    for key, value in tiny_pen_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MNIST_DATA", str(SAMPLE))
    monkeypatch.setenv("MNIST_APP_JOBS", str(tmp_path / "jobs"))
    monkeypatch.delenv("MNIST_APP_TRAIN_JOBS", raising=False)
    return tmp_path / "jobs"


def wait_for(job, statuses, seconds=120, condition=lambda job: True):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        jobs.dispatch(job.folder.parent)
        job = jobs.read(job.folder)
        if job.status in statuses and condition(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"{job.label} still {job.status}: {(job.folder / 'log.txt').read_text()}")


def test_a_run_trains_in_its_own_process_and_reports_its_results(root):
    job = jobs.submit("numpy", SMALL, DATA, "me", root=root)
    job = wait_for(job, (jobs.FINISHED, jobs.FAILED))
    assert job.status == jobs.FINISHED, job.message
    started = jobs._optional_json(job.folder / "started.json")
    assert started["pid"] != os.getpid()
    report = reports.read(job.model_folder).report
    assert report["test"]["accuracy"] > 0.8 and report["data"]["n_train"] == 4500
    assert report["drawn"]["n_digits"] == 20  # the tiny pen file's writers 21-30, two digits each
    assert len(job.progress["history"]["loss"]) == 3 and job.progress["digits_per_s"] > 0
    model = jobs.load_model(job)
    assert model.label == "Run 1: NumPy MLP, written from scratch"
    assert model.predict_proba(sample_digits()).shape == (3, 10)


def sample_digits():
    import numpy as np

    with np.load(SAMPLE) as npz:
        return npz["x_test"][:3].astype(np.float32) / 255


def test_settings_out_of_their_limits_are_refused_and_nothing_is_queued(root):
    with pytest.raises(SettingsError, match="Epochs"):
        jobs.submit("numpy", SMALL | {"epochs": 500}, DATA, "me", root=root)
    assert jobs.list_jobs(root) == []


def test_runs_queue_one_at_a_time_and_a_queued_run_can_be_stopped_before_it_starts(root):
    first = jobs.submit("numpy", LONG, DATA, "me", root=root)
    second = jobs.submit("numpy", SMALL, DATA, "you", root=root)
    assert jobs.read(first.folder).status == jobs.RUNNING
    assert second.status == jobs.QUEUED and jobs.queue_position(second, root) == 1
    jobs.request_stop(second)
    assert jobs.read(second.folder).status == jobs.STOPPED and not jobs.read(second.folder).has_model()
    jobs.request_stop(jobs.read(first.folder))
    wait_for(first, (jobs.STOPPED, jobs.FINISHED, jobs.FAILED))


def test_a_second_run_starts_when_the_first_ends(root):
    first = jobs.submit("numpy", SMALL, DATA, "me", root=root)
    second = jobs.submit("numpy", SMALL, DATA, "me", root=root)
    assert second.status == jobs.QUEUED and second.number == 2
    wait_for(second, (jobs.FINISHED,))
    assert jobs.read(first.folder).status == jobs.FINISHED


def test_more_runs_train_at_once_when_the_server_allows_it(root, monkeypatch):
    monkeypatch.setenv("MNIST_APP_TRAIN_JOBS", "2")
    first = jobs.submit("numpy", LONG, DATA, "me", root=root)
    second = jobs.submit("numpy", LONG, DATA, "you", root=root)
    assert {jobs.read(first.folder).status, second.status} == {jobs.RUNNING}
    for job in (first, second):
        jobs.request_stop(jobs.read(job.folder))


def test_stop_keeps_the_last_finished_epoch(root):
    job = jobs.submit("numpy", LONG, DATA, "me", root=root)
    wait_for(job, (jobs.RUNNING,), condition=lambda j: len(j.progress.get("history", {}).get("loss", [])) >= 1)
    jobs.request_stop(jobs.read(job.folder))
    job = wait_for(job, (jobs.STOPPED, jobs.FINISHED))
    assert job.status == jobs.STOPPED and "stopped by you after epoch" in job.message
    epochs = len(reports.read(job.model_folder).history["loss"])
    assert 1 <= epochs < 50 and f"after epoch {epochs}:" in job.message
    assert jobs.load_model(job).predict_proba(sample_digits()).shape == (3, 10)


def test_a_run_killed_mid_epoch_leaves_no_broken_model_and_shows_as_stopped(root):
    job = jobs.submit("numpy", LONG, DATA, "me", root=root)
    wait_for(job, (jobs.RUNNING,), condition=lambda j: j.progress.get("done", 0) > 0)
    os.kill(jobs._optional_json(job.folder / "started.json")["pid"], signal.SIGKILL)
    job = wait_for(job, (jobs.STOPPED,))
    assert "interrupted" in job.message and (job.folder / "end.json").exists()  # recorded: stays stopped
    assert not job.has_model() and not (job.folder / "model").exists()
    with pytest.raises(ModelLoadError, match="no trained network"):
        jobs.load_model(job)


def test_a_run_stops_itself_when_the_server_that_started_it_is_gone(root):
    job = jobs.submit("numpy", LONG, DATA, "me", root=root)
    jobs.request_stop(job)  # the test's own run out of the way: the next one is started by a server that dies
    wait_for(job, (jobs.STOPPED, jobs.FINISHED))
    code = (
        "import time; from pathlib import Path; from mnist_app.training import jobs as j; "
        "from mnist_app.training.settings import DataSettings; "
        f"job = j.submit('numpy', {LONG!r}, DataSettings(digits=5000), 'me', root=Path({str(root)!r})); "
        "print(job.id, flush=True); time.sleep(600)"
    )
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=os.environ)
    job_id = server.stdout.readline().strip()
    job = wait_for(jobs.read(root / job_id), (jobs.RUNNING,), condition=lambda j: j.progress.get("done", 0) > 0)
    server.kill()
    server.wait()
    job = wait_for(job, (jobs.STOPPED,), seconds=60)
    assert "the server that started it stopped" in job.message  # said by the run itself, not found dead


def test_the_time_limit_stops_a_run(root, monkeypatch):
    monkeypatch.setenv("MNIST_APP_TRAIN_MINUTES", "0.02")  # 1.2 s
    job = wait_for(jobs.submit("numpy", LONG, DATA, "me", root=root), (jobs.STOPPED, jobs.FINISHED))
    assert "time limit of 0.02 minutes" in job.message


def test_a_run_without_mnist_fails_and_says_how_to_fix_it(root, monkeypatch):
    monkeypatch.setenv("MNIST_DATA", str(root.parent / "nowhere"))
    job = wait_for(jobs.submit("numpy", SMALL, DATA, "me", root=root), (jobs.FAILED,))
    assert "MNIST_DATA" in job.message and not job.has_model()


def test_only_a_run_that_has_ended_can_be_deleted(root):
    job = jobs.submit("numpy", LONG, DATA, "me", root=root)
    with pytest.raises(ValueError, match="stop the run"):
        jobs.delete(jobs.read(job.folder))
    jobs.request_stop(jobs.read(job.folder))
    job = wait_for(job, (jobs.STOPPED, jobs.FINISHED))
    jobs.delete(job)
    assert not job.folder.exists()


def test_runs_started_at_once_by_one_owner_in_two_tabs_get_names_of_their_own(root):
    with ThreadPoolExecutor(4) as pool:  # four tabs of one visitor press Train together
        started = list(pool.map(lambda _: jobs.submit("numpy", LONG, DATA, "me", root=root), range(4)))
    assert sorted(job.number for job in started) == [1, 2, 3, 4]
    assert len({job.label for job in started}) == 4
    assert jobs.submit("numpy", LONG, DATA, "you", root=root).number == 1  # numbered per owner
    for job in jobs.list_jobs(root):
        jobs.request_stop(jobs.read(job.folder))
    for job in jobs.list_jobs(root):
        wait_for(job, (jobs.STOPPED, jobs.FINISHED, jobs.FAILED))


def test_a_run_of_an_old_release_under_a_public_visit_id_is_nobodys(root):
    folder = root / "20261130-000000-0-aaaaaa"
    folder.mkdir(parents=True)
    record = {"network": "numpy", "values": SMALL, "data": {}, "seed": 0, "session": "0123456789abcdef"}
    (folder / "job.json").write_text(json.dumps(record | {"created": "2026-11-30T00:00:00+00:00", "number": 1}))
    assert jobs.list_jobs(root, owner="0123456789abcdef") == []
    assert [job.owner for job in jobs.list_jobs(root)] == [NOBODY]
