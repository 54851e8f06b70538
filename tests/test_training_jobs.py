"""Runs from the Train page: records in the store, trained as tasks of the engine (Dask distributed) by real
workers on loopback: the embedded engine the app starts itself, and a `dask scheduler` with `dask worker`s started
here. Runs queue on the engine, stop when asked, survive a killed worker, and never leave a broken model or a run
that shows as running forever."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from mnist_app import reports
from mnist_app.training import engine, jobs, queue
from mnist_app.training.settings import DataSettings, SettingsError, defaults

from scaffold import ROOT, SAMPLE, dask_cluster, tiny_pen_env, wait_for_run

SMALL = defaults("numpy") | {"hidden": 32, "epochs": 3}
LONG = defaults("numpy") | {"hidden": 64, "epochs": 50, "batch_size": 8}  # seconds per epoch on 4,500 digits
DATA = DataSettings(digits=5000)


def test_a_spawned_worker_imports_app_py_without_running_the_app():
    """The embedded engine's workers are spawned processes, and spawn runs the parent's main file (Streamlit's app.py)
    as __mp_main__, as below: that must not start the app, import Streamlit or load every model into each worker."""
    code = (
        "import runpy, sys; runpy.run_path('app.py', run_name='__mp_main__'); "
        "print(sorted(m for m in sys.modules if m.startswith(('streamlit', 'mnist_app', 'keras'))))"
    )
    ran = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "[]", ran.stdout


def stop_all(url):
    for job in jobs.list_jobs(url=url):
        queue.request_stop(job)
    for job in jobs.list_jobs(url=url):
        wait_for_run(job, (jobs.STOPPED, jobs.FINISHED, jobs.FAILED))


def test_a_run_trains_on_a_worker_of_the_embedded_engine_and_reports_its_results(url):
    job = jobs.submit("numpy", SMALL, DATA, "me", url=url)
    job = wait_for_run(job, (jobs.FINISHED, jobs.FAILED))
    assert job.status == jobs.FINISHED, job.message
    workers = engine.client().run(os.getpid)
    assert workers and os.getpid() not in workers.values()  # trained in a worker process, not the app's
    report = reports.read(job.model_folder).report
    assert report["test"]["accuracy"] > 0.8 and report["data"]["n_train"] == 4500
    assert report["drawn"]["n_digits"] == 20  # the tiny pen file's writers 21-30, two digits each
    assert len(job.progress["history"]["loss"]) == 3 and job.progress["digits_per_s"] > 0
    model = jobs.load_model(job)
    assert model.label == "Run 1: NumPy MLP, written from scratch"
    assert model.predict_proba(sample_digits()).shape == (3, 10)


def test_the_embedded_engine_serves_no_dashboard_and_takes_no_fixed_port(url):
    def http(dask_scheduler):
        return dask_scheduler.http_server.port, sorted(dask_scheduler.http_application.applications)

    port, apps = engine.client().run_on_scheduler(http)
    assert port != 8787 and apps == []  # Dask's default port is left free; no Bokeh dashboard behind it


def test_a_workers_next_run_of_the_same_digits_takes_its_data_from_the_last_read_only(monkeypatch):
    from mnist_app.training import job_process

    monkeypatch.setenv("MNIST_DATA", str(SAMPLE))
    run = jobs.Job("1", "numpy", SMALL, DATA, 0, "me", "now", 1)
    mnist, data = job_process.run_data(run, run.config())
    again = job_process.run_data(replace(run, id="2", owner="you"), run.config())
    assert again[0] is mnist and again[1] is data  # the same arrays, not made afresh
    assert len(data.x_train) + len(data.x_val) == DATA.digits and not data.x_train.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        data.x_train[0, 0, 0] = 1.0  # a run that changed it would change the next one's
    other = job_process.run_data(replace(run, data=DataSettings(digits=2000)), run.config())[1]
    assert len(other.x_train) + len(other.x_val) == 2000  # other digits: made afresh


def sample_digits():
    import numpy as np

    with np.load(SAMPLE) as npz:
        return npz["x_test"][:3].astype(np.float32) / 255


def test_settings_out_of_their_limits_are_refused_and_nothing_is_queued(url):
    with pytest.raises(SettingsError, match="Epochs"):
        jobs.submit("numpy", SMALL | {"epochs": 500}, DATA, "me", url=url)
    assert jobs.list_jobs(url=url) == []


def test_runs_queue_on_the_engine_and_a_queued_run_can_be_stopped_before_it_starts(url):
    first = jobs.submit("numpy", LONG, DATA, "me", url=url)
    wait_for_run(first, (jobs.RUNNING,))
    second = jobs.submit("numpy", SMALL, DATA, "you", url=url)
    assert second.status == jobs.QUEUED and queue.queue_position(second) == 1 and queue.wait_estimate(second) > 0
    queue.request_stop(second)
    second = jobs.read(second)
    assert second.status == jobs.STOPPED and not second.has_model()
    queue.request_stop(first)
    wait_for_run(first, (jobs.STOPPED, jobs.FINISHED, jobs.FAILED))
    time.sleep(1)
    assert jobs.read(second).status == jobs.STOPPED  # never started after the first ended


def test_a_second_run_starts_when_the_first_ends(url):
    first = jobs.submit("numpy", SMALL, DATA, "me", url=url)
    second = jobs.submit("numpy", SMALL, DATA, "me", url=url)
    assert second.number == 2
    wait_for_run(second, (jobs.FINISHED,))
    assert jobs.read(first).status == jobs.FINISHED


def test_each_visitor_has_at_most_their_share_of_runs_waiting_or_training(url, monkeypatch):
    monkeypatch.setenv("MNIST_APP_RUNS_PER_VISITOR", "1")
    jobs.submit("numpy", LONG, DATA, "me", url=url)
    with pytest.raises(jobs.TooManyRuns, match="limit is 1 per person"):
        jobs.submit("numpy", SMALL, DATA, "me", url=url)
    other = jobs.submit("numpy", SMALL, DATA, "you", url=url)  # another visitor still may
    assert jobs.read(other).status in jobs.ACTIVE
    stop_all(url)


def test_only_its_owner_or_the_admin_stops_a_run(url):
    job = jobs.submit("numpy", LONG, DATA, "me", url=url)
    assert not queue.request_stop(job, owner="you") and not jobs.read(job).message
    assert queue.request_stop(job, owner=None)  # the admin token's holder
    assert wait_for_run(job, (jobs.STOPPED, jobs.FINISHED)).status == jobs.STOPPED


def test_stop_keeps_the_last_finished_epoch(url):
    job = jobs.submit("numpy", LONG, DATA, "me", url=url)
    wait_for_run(job, (jobs.RUNNING,), condition=lambda j: len(j.progress.get("history", {}).get("loss", [])) >= 1)
    queue.request_stop(job)
    job = wait_for_run(job, (jobs.STOPPED, jobs.FINISHED))
    assert job.status == jobs.STOPPED and "stopped by you after epoch" in job.message
    epochs = len(reports.read(job.model_folder).history["loss"])
    assert 1 <= epochs < 50 and f"after epoch {epochs}:" in job.message
    assert jobs.load_model(job).predict_proba(sample_digits()).shape == (3, 10)


def test_the_time_limit_stops_a_run(url, monkeypatch):
    monkeypatch.setenv("MNIST_APP_TRAIN_MINUTES", "0.02")  # 1.2 s
    job = wait_for_run(jobs.submit("numpy", LONG, DATA, "me", url=url), (jobs.STOPPED, jobs.FINISHED))
    assert "time limit of 0.02 minutes" in job.message


def test_the_memory_limit_stops_a_run_and_says_how_much_it_held(url, monkeypatch):
    monkeypatch.setenv("MNIST_APP_TRAIN_MEMORY_MB", "1")  # a worker with NumPy loaded holds far more
    job = wait_for_run(jobs.submit("numpy", LONG, DATA, "me", url=url), (jobs.STOPPED, jobs.FINISHED))
    held = job.progress["memory_mb"]
    assert held > 1 and "stopped at the memory limit of 1 MB per run (it held " in job.message


def test_a_run_without_mnist_fails_and_says_how_to_fix_it(url, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DATA", str(tmp_path / "nowhere"))
    job = wait_for_run(jobs.submit("numpy", SMALL, DATA, "me", url=url), (jobs.FAILED,))
    assert "MNIST_DATA" in job.message and not job.has_model()


def test_only_a_run_that_has_ended_can_be_deleted(url):
    job = jobs.submit("numpy", LONG, DATA, "me", url=url)
    with pytest.raises(ValueError, match="stop the run"):
        queue.delete(job)
    queue.request_stop(job)
    job = wait_for_run(job, (jobs.STOPPED, jobs.FINISHED))
    queue.delete(job)
    assert jobs.list_jobs(url=url) == []


def test_runs_started_at_once_by_one_owner_in_two_tabs_get_names_of_their_own(url):
    with ThreadPoolExecutor(4) as pool:  # four tabs of one visitor press Train together
        started = list(pool.map(lambda _: jobs.submit("numpy", LONG, DATA, "me", url=url), range(4)))
    assert sorted(job.number for job in started) == [1, 2, 3, 4]
    assert len({job.label for job in started}) == 4
    assert jobs.submit("numpy", LONG, DATA, "you", url=url).number == 1  # numbered per owner
    stop_all(url)


def test_a_reload_or_another_server_finds_the_run_and_its_model(url):
    job = wait_for_run(jobs.submit("numpy", SMALL, DATA, "me", url=url), (jobs.FINISHED,))
    code = (
        "from mnist_app.training import jobs; "
        f"[job] = jobs.list_jobs(owner='me', url={url!r}); print(job.status, jobs.load_model(job).label)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True)
    assert out.stdout.strip() == "finished Run 1: NumPy MLP, written from scratch"
    assert [j.id for j in jobs.list_jobs(owner="me", url=url)] == [job.id]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """A `dask scheduler` and two `dask worker`s of one thread each, on loopback, started as a deployment would."""
    folder = tmp_path_factory.mktemp("cluster")
    env = {"MNIST_DATA": str(SAMPLE), "MNIST_APP_CACHE": str(folder / "cache")} | tiny_pen_env(folder)
    with dask_cluster(folder, env) as address:
        yield address
        engine.stop()  # its clients first, so that none is left calling a scheduler that is gone


def test_a_cluster_trains_runs_side_by_side_and_survives_a_killed_worker(url, cluster, monkeypatch):
    monkeypatch.setenv("MNIST_APP_CLUSTER", cluster)
    deadline = time.monotonic() + 60
    while engine.workers() < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert engine.workers() == 2
    sampling = engine.client().run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks)
    assert set(sampling.values()) == {False}  # started as docs/deploy.md says: no stack sampling beside the runs
    slow = defaults("numpy") | {"hidden": 64, "epochs": 8, "batch_size": 8}
    first, second = (jobs.submit("numpy", slow, DATA, owner, url=url) for owner in ("me", "you"))
    running = lambda j: j.progress.get("done", 0) > 0  # noqa: E731
    second = wait_for_run(second, (jobs.RUNNING,), seconds=180, condition=running)
    two_epochs = lambda j: len(j.progress.get("history", {}).get("loss", [])) >= 2  # noqa: E731 (none while it starts)
    first = wait_for_run(first, (jobs.RUNNING,), seconds=180, condition=two_epochs)
    # both train at once, each in a worker of its own; the first's worker is killed mid-run, two epochs in
    client = engine.client()
    where = next(worker for worker, tasks in client.processing().items() if first.key in tasks)
    os.kill(client.run(os.getpid)[where], signal.SIGKILL)  # a worker process (its nanny starts it again)
    before = jobs.read(first).progress
    ended = [wait_for_run(job, (jobs.FINISHED, jobs.FAILED, jobs.STOPPED), seconds=600) for job in (first, second)]
    for job in ended:  # every run still ends: trained (retried on another worker) or failed with its reason
        assert job.status == jobs.FINISHED or job.message, job
    killed = ended[0]
    assert (killed.status, killed.attempt) == (jobs.FINISHED, 2), killed  # the killed worker's run was tried again
    done = before["saved_epochs"]  # ... from its last epoch saved, which it did not train again
    assert done >= 1 and f"went on from the end of epoch {done}" in killed.message
    history = killed.progress["history"]
    assert len(history["loss"]) == 8 and history["loss"][:done] == before["history"]["loss"][:done]


def test_docs_start_worker_machines_as_the_tests_cluster_starts_its_workers():
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    assert all(f"export {name}={value}" in deploy for name, value in engine.WORKER_ENV.items())


def test_a_worker_reuses_a_batchs_arrays_despite_the_nannys_malloc_setting():
    """A Dask nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which made glibc map and unmap every array of
    a batch afresh (page faults on each): a run's fit took 2.4x as long in a worker. run_task undoes it."""
    code = """
import resource
import numpy as np
from mnist_app.training.job_process import allocate_as_a_lone_process

def page_faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(500):
        batch = np.ones((64, 784))  # 400 KiB, as a NumPy MLP's batch
        del batch
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

print(page_faults(), allocate_as_a_lone_process(), page_faults())
"""
    env = os.environ | {"MALLOC_TRIM_THRESHOLD_": "65536"}  # as distributed.nanny.pre-spawn-environ sets it
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    before, done, after = out.stdout.split()
    assert done == "True"
    assert int(before) > 20_000 and int(after) < 2_000, (before, after)  # a page fault per 4 KiB, then next to none
