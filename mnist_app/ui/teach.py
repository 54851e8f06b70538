"""Teach mode on the Draw page: the app asks for each digit in turn, keeps every drawing under the digit it asked
for, and Teach fine-tunes a copy of the chosen model on them (personal.py), as a job of the Train page's runner.

The drawings are saved in the store as this visitor's (the owner key of their secret, ui/store.py): a reload keeps
them, and the resume code, typed on another device, goes on with them. They stay the person's own, out of the
public set, unless the person ticks that they may be shared.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st
from streamlit.logger import get_logger

from mnist_app import reports
from mnist_app.store.drawings import DrawingStore, StoreError
from mnist_app.training import jobs as training_jobs
from mnist_app.training import personal
from mnist_app.training.engine import EngineUnavailable
from mnist_app.ui.job_views import ACTIVE, ended, keep, live
from mnist_app.ui.store import resume_code, save_drawing, say_store_error, visitor

log = get_logger(__name__)


def owner() -> str:
    """Whose drawings are taught: this visitor's (their secret's owner key), never anyone's named on the page."""
    return visitor().owner


def per_digit() -> int:
    return int(st.session_state.get("teach_per_digit", personal.PER_DIGIT))


@dataclass(frozen=True)
class Asked:
    """What teach mode asks for now: the digit (None when each has enough), in a headline and a caption."""

    target: int | None
    headline: str
    caption: str


def progress(store: DrawingStore) -> Asked:
    """Which digit to draw next and how far along the person is, in words of a fixed length: the Draw page shows
    them in its headline's box, which must not grow between strokes."""
    try:
        counts = store.counts(owner=owner())
    except StoreError as exc:  # teaching waits for the store; reading goes on
        log.warning("mnist-app: %s", exc)
        return Asked(None, "Teaching waits for the store", exc.for_visitors)
    target = personal.next_prompt(counts, per_digit())
    done, wanted = sum(min(n, per_digit()) for n in counts.values()), 10 * per_digit()
    if target is None:
        return Asked(None, "Each digit drawn: press Teach below", f"{done} of {wanted} kept.")
    return Asked(target, f"Draw a {target}", f"{done} of {wanted} kept. Clear a stray stroke before you keep it.")


def keep_prompted(store: DrawingStore, digit, image, model: str, brush: int, key: str, target: int, clear) -> None:
    """Button callback: save the drawing under the digit that was asked for, then start a clean canvas."""
    shared = bool(st.session_state.get("teach_shared", False))
    if save_drawing(store, digit, image, model, brush, key, label=target, shared=shared):
        clear()


def panel(store: DrawingStore, name: str, label: str) -> None:
    """How many drawings there are, the Teach button, and the latest teaching of this session: live or its results."""
    st.divider()
    st.markdown(f"**Teach {label} your handwriting**")
    left, right = st.columns(2)
    left.number_input("Drawings of each digit", 1, 10, personal.PER_DIGIT, key="teach_per_digit")
    right.checkbox(
        "Share my teach drawings",
        key="teach_shared",
        help="Ticked, the drawings you keep from now on join the public set (the gallery, downloads, training). "
        "Unticked, only you see them.",
    )
    resume_code()
    try:
        drawn = store.dataset(owner=owner())
    except StoreError as exc:
        say_store_error(exc)
        return
    enough = len(drawn.labels) >= personal.MIN_DRAWINGS
    if st.button(f"Teach {label} ({len(drawn.labels)} drawings)", key="teach", disabled=not enough, type="primary"):
        try:
            job = training_jobs.submit_teach(name, drawn.images, drawn.labels, owner())
            st.session_state.teach_job = job.id
        except (ValueError, StoreError, EngineUnavailable) as exc:
            st.error(f"Cannot teach: {getattr(exc, 'for_visitors', exc)}")
    if not enough:
        st.caption(f"Teach needs {personal.MIN_DRAWINGS} drawings or more; fewer than one of each digit is fine.")
    if error := st.session_state.pop("teach_error", None):
        st.error(error)
    if job_id := st.session_state.get("teach_job") or last_taught():
        latest(training_jobs.read(job_id))


def last_taught() -> str | None:
    """The visitor's latest teaching (theirs, so a reload or another device finds it), if any."""
    taught = [job for job in training_jobs.list_jobs(owner=owner()) if job.task == training_jobs.TEACH]
    return taught[-1].id if taught else None


def latest(job: training_jobs.Job) -> None:
    if job.status in ACTIVE:
        live(job.id)
        return
    if not ended(job):
        return
    taught = reports.read(job.model_folder).report["teach"]
    st.markdown(
        f"On {taught['measured']} of your drawings it was not taught: **{taught['yours_before']:.0%} read right "
        f"before, {taught['yours_after']:.0%} after**. MNIST's first {taught['mnist_digits']:,} test digits: "
        f"{taught['mnist_before']:.2%} before, {taught['mnist_after']:.2%} after."
    )
    rows = [
        {"digit": d, "right before": f"{b} of {n}", "right after": f"{a} of {n}"}
        for d, (b, a, n) in taught["per_digit"].items()
        if a != b
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True) if rows else st.caption("No digit changed.")
    st.caption(f"It is offered above as {job.label}, to you.")
    st.button("Keep", key=f"keep_taught_{job.id}", on_click=keep, args=(job, "teach_error"), help="For every visit.")
