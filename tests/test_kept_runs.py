"""Kept runs: a network trained on the Train page, stored in the drawing store's database (SQLite and
PostgreSQL), loads as safely as a shipped model, and a damaged one is refused kindly."""

import hashlib
import io
import shutil
import time
import zipfile

import numpy as np
import pytest
import sqlalchemy as sa

from mnist_app import reports
from mnist_app.models import ModelLoadError
from mnist_app.store.drawings import SCHEMA_VERSION, DrawingStore
from mnist_app.store.schema import KEPT_RUNS
from mnist_app.training import jobs
from mnist_app.training.kept_runs import KeptRuns, _zipped
from mnist_app.training.settings import DataSettings, defaults

import last_release
from scaffold import SAMPLE, tiny_pen_env

RUNS = {
    "numpy": defaults("numpy") | {"hidden": 32, "epochs": 2},
    "keras-mlp": defaults("keras-mlp") | {"hidden": "32", "epochs": 1},
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, jobs.Job]:
    """One finished run of each kind of network, trained once for the module."""
    folder = tmp_path_factory.mktemp("runs")
    env = tiny_pen_env(folder) | {"MNIST_DATA": str(SAMPLE)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        started = {
            network: jobs.submit(network, values, DataSettings(digits=2000), "me", url=f"sqlite:///{folder}/runs.db")
            for network, values in RUNS.items()
        }
        deadline = time.monotonic() + 600  # ends when the runs do: the suite's browser tests can load both cores
        while any(jobs.read(j).status in (jobs.QUEUED, jobs.RUNNING) for j in started.values()):
            assert time.monotonic() < deadline, "the runs did not finish"
            time.sleep(0.2)
    finished = {network: jobs.read(job) for network, job in started.items()}
    assert all(job.status == jobs.FINISHED for job in finished.values()), [j.message for j in finished.values()]
    return finished


@pytest.fixture
def kept(store_url):
    store = DrawingStore(store_url)
    yield KeptRuns(store)
    store.close()


@pytest.mark.parametrize("network", RUNS)
def test_a_kept_run_reads_digits_as_the_run_did(kept, trained, network, digits):
    job = trained[network]
    run_id = kept.keep(job)
    images = digits[0][:20]
    np.testing.assert_allclose(
        kept.load(run_id).predict_proba(images), jobs.load_model(job).predict_proba(images), atol=1e-6
    )
    assert kept.load(run_id).label.startswith(job.label) and kept.load(run_id).name == f"kept-{run_id}"


def test_a_kept_run_keeps_its_history_report_and_misread_digits(kept, trained):
    job = trained["numpy"]
    run_id = kept.keep(job)
    stored, original = kept.reports(run_id), reports.read(job.model_folder)
    assert stored.history == original.history and stored.report == original.report
    np.testing.assert_array_equal(stored.gallery["images"], original.gallery["images"])
    [summary] = kept.all()
    assert (summary.id, summary.owner) == (run_id, "me")
    assert f"{original.report['test']['accuracy']:.2%}" in summary.label


def test_every_store_opened_on_the_database_sees_a_kept_run(store_url, trained):
    first, second = DrawingStore(store_url), DrawingStore(store_url)
    run_id = KeptRuns(first).keep(trained["numpy"])
    assert [run.id for run in KeptRuns(second).all()] == [run_id]
    first.close(), second.close()


def test_a_deleted_run_is_gone(kept, trained):
    run_id = kept.keep(trained["numpy"])
    assert not kept.delete(run_id, "someone-else") and kept.all() != []  # only its owner deletes it
    assert kept.delete(run_id, "me") and not kept.delete(run_id, "me")
    assert kept.all() == []
    with pytest.raises(ModelLoadError, match="no longer stored"):
        kept.load(run_id)


def store_archive(kept, archive: bytes, matching_hash: bool = True) -> None:
    digest = hashlib.sha256(archive).hexdigest() if matching_hash else "0" * 64
    with kept.store.writing("damage a kept run in") as conn:
        conn.execute(sa.update(KEPT_RUNS).values(archive=archive, archive_sha256=digest))


def test_a_model_that_does_not_match_its_hash_is_refused_kindly(kept, trained):
    run_id = kept.keep(trained["numpy"])
    store_archive(kept, b"PK\x03\x04 not a model", matching_hash=False)
    with pytest.raises(ModelLoadError, match=rf"kept run #{run_id} .* is damaged"):
        kept.load(run_id)


def test_an_archive_that_is_no_zip_is_refused_kindly(kept, trained):
    run_id = kept.keep(trained["numpy"])
    store_archive(kept, b"not a zip at all")
    with pytest.raises(ModelLoadError, match=rf"kept run #{run_id} .* cannot be unpacked"):
        kept.load(run_id)


def test_an_archive_that_would_write_outside_its_folder_is_refused(kept, trained):
    run_id = kept.keep(trained["numpy"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escaped.txt", "no")
    store_archive(kept, buffer.getvalue())
    with pytest.raises(ModelLoadError, match="outside its folder"):
        kept.load(run_id)


@pytest.mark.parametrize("network", RUNS)
def test_unreadable_weights_are_refused_kindly(kept, trained, network, tmp_path):
    job = trained[network]
    run_id = kept.keep(job)
    copy = shutil.copytree(job.model_folder, tmp_path / "model")
    for weights in [*copy.glob("*.npz"), *copy.glob("*.keras")]:
        weights.write_bytes(b"PK\x03\x04 not a model")
    store_archive(kept, _zipped(copy))
    with pytest.raises(ModelLoadError, match=rf"kept run #{run_id} .* cannot be"):
        kept.load(run_id)


def test_a_run_without_a_network_cannot_be_kept(kept, trained, tmp_path):
    job = trained["numpy"]
    unfinished = jobs.Job(**{**job.__dict__, "status": jobs.STOPPED, "has_archive": False})
    with pytest.raises(ValueError, match="no trained network to keep"):
        kept.keep(unfinished)


@pytest.mark.parametrize("version", [1, 2])
def test_a_store_of_the_last_releases_gains_the_kept_runs_table_and_keeps_its_drawings(store_url, digits, version):
    last_release.write_store(store_url, version, digits[0][:3], digits[1][:3])
    store = DrawingStore(store_url)  # migrates on open
    assert store.schema_version() == SCHEMA_VERSION and store.count() == 3
    np.testing.assert_array_equal(store.dataset().images, digits[0][:3])
    assert KeptRuns(store).all() == []
    store.close()
