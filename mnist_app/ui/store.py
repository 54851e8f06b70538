"""Cached access to the drawing store for the pages: one store per server, a failure remembered, not retried per rerun.

Saving is on unless MNIST_APP_COLLECT=off (for public deployments). A save stores every model's reading with the
drawing; a retrained model's missing readings are made in the background (readings.py), once per server.

Whose things are whose: each visitor holds a secret (visitors.py), kept in their browser's cookie so that a reload
keeps it, and shown to them alone as a resume code to type on another device. The store sees only its hashes.
"""

from __future__ import annotations

import json
import os
import threading
import time

import numpy as np
import streamlit as st
from streamlit.logger import get_logger

from mnist_app import models
from mnist_app.store import readings, visitors
from mnist_app.store.drawings import DrawingStore, StoreError, default_url
from mnist_app.store.rows import canvas_png
from mnist_app.ui.cache import is_loaded, load_model, models_dir, runs_models

log = get_logger(__name__)

COOKIE = "mnist_app_visitor"  # the visitor's secret, in their browser only (SameSite=Strict, never in a URL)
COOKIE_DAYS = 365
RETRY_AFTER_S = 30  # a broken store (a server down) is tried again after this long, not on every rerun


def switched_on(variable: str) -> bool:
    """An on/off setting of the environment: on unless it says off, 0, false or no."""
    return os.environ.get(variable, "on").strip().lower() not in ("off", "0", "false", "no")


def collecting() -> bool:
    """False when MNIST_APP_COLLECT is off (or 0, false, no): nothing is offered for saving."""
    return switched_on("MNIST_APP_COLLECT")


@st.cache_resource(show_spinner=False)
def _opened(url: str) -> DrawingStore:
    store = DrawingStore(url)  # a StoreError is not cached: _failure remembers it for a while instead
    log.info("mnist-app drawing store: %s", store.url)  # the log says where the store is; the pages never do
    return store


@st.cache_resource(ttl=RETRY_AFTER_S, show_spinner=False)
def _failure(url: str) -> StoreError | None:
    try:
        _opened(url)
    except StoreError as exc:
        log.warning("mnist-app: %s", exc)
        return exc
    return None


def get_store() -> DrawingStore:
    """The store of $MNIST_APP_DB (default: an SQLite file), shared by every session; StoreError when broken."""
    url = default_url()
    failure = _failure(url)
    if failure is not None:
        raise failure
    return _opened(url)


@st.cache_resource(show_spinner=False, max_entries=64)
def _version(name: str, directory: str, stamp: tuple) -> str:
    return models.version(name, directory)


def model_versions() -> dict[str, str]:
    """{name: version} of the shipped models present: what their readings in the store are keyed by."""
    directory = str(models_dir())
    return {name: _version(name, directory, models.stamp(name, directory)) for name in models.available(directory)}


class Filler:
    """One model version's missing readings, made in a background thread once per server (readings.fill): the
    Drawings page shows its progress instead of waiting. Across servers the database lets one make them at a time."""

    def __init__(self, url: str, name: str, version: str):
        self.error: str | None = None
        self.busy_elsewhere = False
        self.ended_at = float("inf")
        self.thread = runs_models(
            threading.Thread(target=self._run, args=(url, name, version), daemon=True, name=f"fill-{name}")
        )

    def _run(self, url: str, name: str, version: str) -> None:
        try:
            made = readings.fill(_opened(url), name, version, load_model(name).predict_proba)
            self.busy_elsewhere = made is None
        except (StoreError, models.ModelLoadError) as exc:
            log.warning("mnist-app could not make the readings of %s: %s", name, exc)
            self.error = exc.for_visitors if isinstance(exc, StoreError) else str(exc)
        finally:
            self.ended_at = time.monotonic()

    @property
    def running(self) -> bool:
        return self.thread.is_alive()


@st.cache_resource(show_spinner=False)
def _filler(url: str, name: str, version: str) -> Filler:
    return Filler(url, name, version)


def fill_readings(name: str, version: str) -> Filler:
    """The server's filler of this model version's missing readings, started if need be: once, and again a while
    after it ended with readings still missing (another server was making them, or the store failed)."""
    url = default_url()
    filler = _filler(url, name, version)
    if time.monotonic() - filler.ended_at > RETRY_AFTER_S:
        _filler.clear(url, name, version)
        filler = _filler(url, name, version)
    return filler


def say_store_error(exc: StoreError, where=st) -> None:
    """Tells the visitor what failed without naming the store (the log does): every page catches store errors so."""
    log.warning("mnist-app: %s", exc)
    where.error(exc.for_visitors)


def secret() -> str:
    """This visitor's secret: the one they resumed with, else their browser's cookie's, else a new one."""
    if "visitor_secret" not in st.session_state:
        cookie = st.context.cookies.get(COOKIE)
        try:  # a headless test's cookies are no text: a new secret, as for a first visit
            st.session_state.visitor_secret = visitors.check_secret(cookie if isinstance(cookie, str) else "")
        except visitors.ResumeCodeError:
            st.session_state.visitor_secret = visitors.new_secret()
    return st.session_state.visitor_secret


def visitor() -> visitors.Visitor:
    """What the store knows of this visitor: an owner key that grants their rights, and a public pseudonym."""
    return visitors.Visitor.of(secret())


def resume(key: str) -> None:
    """Text-input callback: take the secret typed in `key` as this visitor's (or say why it is not one)."""
    try:
        st.session_state.visitor_secret = visitors.check_secret(st.session_state.get(key, ""))
    except visitors.ResumeCodeError as exc:
        st.session_state.resume_error = f"That is not a resume code: {exc}."
        return
    st.session_state[key] = ""
    st.session_state.resume_error = None


def resume_code(where=st) -> None:
    """The visitor's resume code, to copy, and a box to type one from another visit or device."""
    with where.expander("Your resume code: your drawings and runs on another device"):
        st.caption("Keep it private: whoever holds it may teach with, and delete, your drawings and runs.")
        st.code(secret(), language=None)
        st.text_input("Resume with a code", key="resume_with", on_change=resume, args=("resume_with",), type="password")
        if error := st.session_state.get("resume_error"):
            st.error(error)


def remember_visitor() -> None:
    """Writes the secret to this browser's cookie, so that a reload keeps it: a script in a one-pixel frame in the
    sidebar, below the pages' links, where it shifts nothing on a page (and where a page's st.stop cannot skip it)."""
    cookie = f"{COOKIE}={secret()}; Max-Age={COOKIE_DAYS * 86400}; Path=/; SameSite=Strict"
    st.sidebar.iframe(f"<script>window.parent.document.cookie = {json.dumps(cookie)};</script>", height=1)


def every_reading(digit: np.ndarray, names: list[str], load=load_model) -> dict[str, list[float]]:
    """Each usable model's probabilities for the digit (a broken model is left out); `load` loads one by name."""
    readings = {}
    for name in names:
        try:
            readings[name] = load(name).predict_proba(digit[None])[0].tolist()
        except models.ModelLoadError:
            continue
    return readings


def save_drawing(
    store: DrawingStore,
    digit: np.ndarray,
    image: np.ndarray,
    model: str,
    brush: int,
    key: str,
    label=None,
    shared: bool = True,
    number: tuple[str, int] | None = None,
) -> bool:
    """Button callback: stores the drawing under `label` (default: the digit picked in the page), with the readings
    of the models this server holds (`model`'s among them), as this visitor's, public if `shared`, and says so in a
    toast; False, with the error kept for the page to show, when it could not be saved. The other models' readings
    fill in behind it (fill_readings): a first save on a fresh server never waits for TensorFlow. `number`: a digit
    of a number, as DrawingStore.add takes it."""
    label = int(st.session_state.save_label if label is None else label)
    versions = model_versions()
    held = [name for name in versions if name == model or is_loaded(name)]
    try:
        new_id = store.add(
            digit,
            label,
            canvas_png=canvas_png(image),
            predictions=(read := every_reading(digit, held)),
            versions={name: version for name, version in versions.items() if name in read},
            model=model,
            brush=brush,
            visitor=visitor(),
            shared=shared,
            number=number,
        )
    except StoreError as exc:
        log.warning("mnist-app: %s", exc)
        st.session_state.save_error = exc.for_visitors
        return False
    for name in versions.keys() - read.keys():  # models not loaded yet: read in the background, once they load
        fill_readings(name, versions[name])
    st.session_state.setdefault("saved", {})[key] = (new_id, label)
    # said on the page too, until the canvas is cleared: a stroke arriving during the save reruns the page, and its
    # toast is lost, while the changed drawing offers "Save as" again
    st.session_state.last_saved = (new_id, label, st.session_state.get("clears", 0))
    st.toast(f"Saved as {label} (drawing #{new_id}). Thank you!", icon=":material/check:")
    return True
