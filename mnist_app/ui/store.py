"""Cached access to the drawing store for the pages: one store per server, a failure remembered, not retried per rerun.

Saving is on unless MNIST_APP_COLLECT=off (for public deployments). The models' re-reading of the saved
drawings is cached per model (and version of its files, models.stamp) and per block of 1,000 ids with that block's
revision (count, last id): a save or a delete re-reads one block, so the Drawings page stays fast with many drawings,
and a retrained model re-reads them all.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

import numpy as np
import streamlit as st

from mnist_app import models
from mnist_app.drawings import DrawingStore, DrawnSet, StoreError, canvas_png, default_url
from mnist_app.ui.cache import load_model, models_dir

RETRY_AFTER_S = 30  # a broken store (a server down) is tried again after this long, not on every rerun
BLOCK = 1000  # drawings are re-read by today's models in blocks of this many ids


def switched_on(variable: str) -> bool:
    """An on/off setting of the environment: on unless it says off, 0, false or no."""
    return os.environ.get(variable, "on").strip().lower() not in ("off", "0", "false", "no")


def collecting() -> bool:
    """False when MNIST_APP_COLLECT is off (or 0, false, no): nothing is offered for saving."""
    return switched_on("MNIST_APP_COLLECT")


@st.cache_resource(show_spinner=False)
def _opened(url: str) -> DrawingStore:
    return DrawingStore(url)  # a StoreError is not cached: _failure remembers it for a while instead


@st.cache_resource(ttl=RETRY_AFTER_S, show_spinner=False)
def _failure(url: str) -> StoreError | None:
    try:
        _opened(url)
    except StoreError as exc:
        return exc
    return None


def get_store() -> DrawingStore:
    """The store of $MNIST_APP_DB (default: an SQLite file), shared by every session; StoreError when broken."""
    url = default_url()
    failure = _failure(url)
    if failure is not None:
        raise failure
    return _opened(url)


@st.cache_resource(show_spinner=False, max_entries=16)
def _drawn_block(url: str, block: int, revision: tuple[int, int]) -> DrawnSet:
    return _opened(url).dataset(block * BLOCK, (block + 1) * BLOCK - 1)


def saved_drawings() -> DrawnSet:
    """Every saved drawing as arrays, oldest first; read once per block of ids and its revision."""
    url = default_url()
    parts = [_drawn_block(url, b, rev) for b, rev in _opened(url).block_revisions(BLOCK).items()]
    if not parts:
        return _opened(url).dataset()
    fields = ("ids", "images", "labels", "session_ids")
    return DrawnSet(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


@dataclass(frozen=True)
class Rereading:
    """One model's reading of every saved drawing, oldest first."""

    ids: np.ndarray  # (n,) int64, ascending
    labels: np.ndarray  # (n,) int64
    predicted: np.ndarray  # (n,) int64

    def accuracy(self) -> float:
        return float((self.predicted == self.labels).mean()) if len(self.labels) else float("nan")

    def misread(self) -> np.ndarray:
        return self.predicted != self.labels


@st.cache_resource(show_spinner="Today's models are reading the saved drawings (once per 1,000)…", max_entries=512)
def _reread_block(name: str, directory: str, stamp: tuple, url: str, block: int, revision: tuple) -> Rereading:
    drawn = _drawn_block(url, block, revision)
    predicted = load_model(name).predict_proba(drawn.images).argmax(axis=1)
    return Rereading(drawn.ids, drawn.labels, predicted)


def rereading(name: str) -> Rereading:
    """Today's reading of every saved drawing by one model, cached per block of ids: a save or a delete makes
    it read one block again, not all of them. ModelLoadError when the model cannot be loaded."""
    url, directory = default_url(), str(models_dir())
    blocks = _opened(url).block_revisions(BLOCK).items()
    stamp = models.stamp(name, directory)
    parts = [_reread_block(name, directory, stamp, url, b, rev) for b, rev in blocks]
    if not parts:
        return Rereading(*(np.zeros(0, np.int64) for _ in range(3)))
    return Rereading(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("ids", "labels", "predicted")))


def session_id() -> str:
    """A random id for this browser session: groups its drawings (train/validation splits), says nothing of who."""
    if "drawing_session" not in st.session_state:
        st.session_state.drawing_session = secrets.token_hex(8)
    return st.session_state.drawing_session


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
    store: DrawingStore, digit: np.ndarray, image: np.ndarray, model: str, brush: int, key: str, label=None
) -> bool:
    """Button callback: stores the drawing under `label` (default: the digit picked in the page), and says so in a
    toast; False, with the error kept for the page to show, when it could not be saved."""
    label = int(st.session_state.save_label if label is None else label)
    try:
        new_id = store.add(
            digit,
            label,
            canvas_png=canvas_png(image),
            predictions=every_reading(digit, models.available(models_dir())),
            model=model,
            brush=brush,
            session_id=session_id(),
        )
    except StoreError as exc:
        st.session_state.save_error = str(exc)
        return False
    st.session_state.setdefault("saved", {})[key] = (new_id, label)
    st.toast(f"Saved as {label} (drawing #{new_id}). Thank you!", icon=":material/check:")
    return True
