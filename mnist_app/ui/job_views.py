"""A run of the training engine as the pages show it: while it waits or trains (a fragment that rereads its
progress on a timer; the page itself never sleeps or loops), and how it ended."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from mnist_app.reports import charts
from mnist_app.store.drawings import StoreError
from mnist_app.training import jobs as training_jobs
from mnist_app.training import queue, settings
from mnist_app.training.engine import EngineUnavailable
from mnist_app.training.kept_runs import KeptRuns
from mnist_app.ui.store import get_store, visitor

Queued = TypeVar("Queued")

LIVE_EVERY_S = 0.3  # the live view rereads the job's progress this often
ACTIVE = (training_jobs.QUEUED, training_jobs.RUNNING)


@st.fragment(run_every=LIVE_EVERY_S)
def live(job_id: str) -> None:
    """The run while it waits or trains: its place in the queue, or a progress bar and the curves so far."""
    job = training_jobs.read(job_id)
    if job.status not in ACTIVE:
        st.rerun(scope="app")  # ended: the whole page shows its results
    stop = {"on_click": queue.request_stop, "args": (job, visitor().owner)}  # their own runs only
    st.button("Stop", key=f"stop_{job.id}", type="secondary", **stop)
    if job.status == training_jobs.QUEUED:
        place, wait = queue.queue_position(job), queue.wait_estimate(job)
        st.info(f"Queued: position {place}, about {wait:.0f} s to wait. Each worker trains one run at a time.")
        return
    if job.attempt > 1:
        st.caption(f"Its worker stopped: the engine is training it again (try {job.attempt}).")
    progress(job.progress)


def class_runs() -> None:
    """A teacher's view (the admin token entered on the Drawings page): every run waiting or training, of anyone,
    each with Stop."""
    active = [job for job in training_jobs.list_jobs() if job.status in ACTIVE]
    with st.expander(f"Every run waiting or training ({len(active)}): you hold the admin token"):
        for job in active:
            name, button = st.columns([4, 1])
            place = (
                f"queued, position {queue.queue_position(job)}" if job.status == training_jobs.QUEUED else "training"
            )
            name.write(f"#{job.id} {job.label}: {place}")
            button.button("Stop", key=f"stop_any_{job.id}", on_click=queue.request_stop, args=(job, None))


def progress(state: dict) -> None:
    """The progress bar (epoch, digits per second, time left) and the live loss and accuracy charts."""
    if state.get("phase", "preparing") == "preparing":
        st.progress(0.0, text="Starting: loading MNIST and building the network…")
        return
    epoch, epochs = state["epoch"] + 1, state["epochs"]
    share = min(1.0, (state["epoch"] + state["done"] / state["batches"]) / epochs)
    if state.get("phase") == "measuring":
        text = "Measuring on MNIST's test digits and the held-out writers' drawings…"
    else:
        left = "time left: measuring" if state.get("eta_s") is None else f"{state['eta_s']:.0f} s left"
        text = f"Epoch {epoch}/{epochs} · {state['digits_per_s']:,} digits/s · {left}"
    st.progress(share, text=text)
    curves(state)


def curves(state: dict) -> None:
    """Loss and accuracy, training and validation, side by side: live while the run trains, and kept after."""
    if not state.get("trace"):
        return
    for column, metric in zip(st.columns(2), ("loss", "accuracy"), strict=True):
        chart = charts.live_curves(state["trace"], state["history"], metric, state["epochs"])
        column.altair_chart(chart, width="stretch")


def how_it_ended(job: training_jobs.Job) -> str:
    """'Run 2 stopped by you after epoch 3: ...', 'Run 2 finished: 5 epochs in 9 s': the status said once."""
    if job.message.startswith(job.status):
        return f"{job.label} {job.message}"
    return f"{job.label} {job.status}: {job.message}" if job.message else f"{job.label} {job.status}"


def ended(job: training_jobs.Job) -> bool:
    """Say how a job ended, with its curves; True when it left a model to show."""
    say = {training_jobs.FINISHED: st.success, training_jobs.STOPPED: st.warning, training_jobs.FAILED: st.error}
    say[job.status](how_it_ended(job))
    if job.task != training_jobs.TEACH:  # listed jobs come without their progress: read it for the curves
        curves(job.progress or training_jobs.read(job).progress)
    return job.has_model()


def keep(job: training_jobs.Job, error_key: str) -> None:
    """Keep button callback: store the job's model for every session and server; a failure is kept under
    `error_key` for the page to say."""
    try:
        run_id = KeptRuns(get_store()).keep(job)
    except StoreError as exc:
        st.session_state[error_key] = f"Not kept: {exc.for_visitors}"
        return
    except ValueError as exc:
        st.session_state[error_key] = f"Not kept: {exc}"
        return
    st.toast(f"Kept as #{run_id}: every session and server now offers it.", icon=":material/check:")


def queue_or_say(error_key: str, submit: Callable[[], Queued]) -> Queued | None:
    """A Train or Compare button's queueing: what `submit()` queued, or None with the refusal (a setting out, the
    visitor's share) or the engine's unavailability kept under `error_key` for the page to say."""
    try:
        queued = submit()
    except settings.SettingsError as exc:
        st.session_state[error_key] = str(exc)
        return None
    except (EngineUnavailable, StoreError) as exc:
        st.session_state[error_key] = f"Training is unavailable: {getattr(exc, 'for_visitors', exc)}"
        return None
    st.session_state[error_key] = None
    return queued
