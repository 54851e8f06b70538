"""The models the pages offer: the shipped ones, this visitor's runs from the Train page, and the kept runs of
every session, each under a name of its own ("run-<job id>", "kept-<id>"), loaded and labelled through here.

Pages ask `offered()` (each name with its label) and `load()`, and never which of the three a model is.
"""

from __future__ import annotations

import streamlit as st

from mnist_app import models
from mnist_app.store.drawings import StoreError
from mnist_app.training import jobs as training_jobs
from mnist_app.training.kept_runs import KeptRuns
from mnist_app.ui.cache import is_loaded as cache_is_loaded
from mnist_app.ui.cache import load_model, models_dir
from mnist_app.ui.store import collecting, get_store, switched_on, visitor

RUN, KEPT = "run-", "kept-"


def training_on() -> bool:
    """False when MNIST_APP_TRAINING is off (or 0, false, no): no Train page, no runs offered."""
    return switched_on("MNIST_APP_TRAINING")


def session_jobs() -> list[training_jobs.Job]:
    """This visitor's runs (their secret's, so a reload keeps them), oldest first; none when MNIST_APP_COLLECT is off
    (runs are records of the store, and then the app does not even open it)."""
    if not (training_on() and collecting()):
        return []
    try:
        return training_jobs.list_jobs(owner=visitor().owner)
    except StoreError:
        return []


def kept_runs() -> list:
    """Every kept run in the store (none when the store cannot be used: the pages say so where it matters, and none
    when MNIST_APP_COLLECT is off: then the app writes nothing to the database, not even to open it)."""
    if not (training_on() and collecting()):
        return []
    try:
        return KeptRuns(get_store()).all()
    except StoreError:
        return []


def offered() -> dict[str, str]:
    """The Draw page's models, each with what the page calls it: the shipped ones that load, then this visitor's
    trained runs, then the kept runs. One look at the runs and the store, however many models a page lists."""
    shipped = {name: models.label_of(name) for name in models.available(models_dir())}
    runs = {f"{RUN}{job.id}": job.label for job in session_jobs() if job.has_model()}
    return shipped | runs | {run.name: f"Kept: {run.label}" for run in kept_runs()}


@st.cache_resource(show_spinner=False, max_entries=32)
def _load_run(job_id: str, status: str) -> models.Model:
    return training_jobs.load_model(training_jobs.read(job_id))


@st.cache_resource(show_spinner=False, max_entries=32)
def _load_kept(url: str, run_id: int) -> models.Model:
    return KeptRuns(get_store()).load(run_id)


def is_loaded(name: str) -> bool:
    """Whether reading with this offered model now costs no load: a shipped model this server holds (a run's or a
    kept run's model is checked against the store on every load)."""
    return not name.startswith((RUN, KEPT)) and cache_is_loaded(name)


def load(name: str) -> models.Model:
    """Any offered model; ModelLoadError (saying why) when it cannot be loaded."""
    if name.startswith(RUN):
        job_id = name.removeprefix(RUN)
        try:
            job = training_jobs.read(job_id)
        except (ValueError, StoreError) as exc:
            raise models.ModelLoadError(f"run {job_id} is gone ({exc})") from exc
        return _load_run(job_id, job.status)  # a run that ended since is loaded anew
    if name.startswith(KEPT):
        try:
            store = get_store()
        except StoreError as exc:
            raise models.ModelLoadError(exc.for_visitors) from exc
        return _load_kept(store.url, int(name.removeprefix(KEPT)))
    return load_model(name)
