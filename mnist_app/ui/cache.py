"""Cached loaders for the pages: one model per server process, reports as copies. Errors are raised, typed.

Models are keyed by their weights' and calibration's modification times and sizes (models.stamp), reports by their
files' modification times, so a model retrained while the server runs is read and shown afresh: the Draw and
Diagnostics pages never disagree.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
import weakref
from pathlib import Path

import streamlit as st
from streamlit import runtime
from streamlit.logger import get_logger

from mnist_app import models, reports
from mnist_app.reading import explain

log = get_logger(__name__)
# seconds between the first page's script and the warm-up: the browser is still fetching that page's ~50 script
# chunks and its pictures from this process, and TensorFlow's import holds Python for seconds (timed by hand, a fresh
# server's Drawings page with a million drawings showed in 3.8 s with the warm-up at once, 2.9 s with it 3 s later)
WARM_UP_AFTER_S = 3.0
_held: set[tuple[str, str, tuple]] = set()  # (name, directory, stamp) of the models this process has loaded


_with_models: weakref.WeakSet[threading.Thread] = weakref.WeakSet()  # background threads that load or run models


def runs_models(thread: threading.Thread) -> threading.Thread:
    """Start a background thread that loads or runs models, and let the server's exit cut it short (_exit_at_once)."""
    _with_models.add(thread)
    thread.start()
    return thread


@atexit.register
def _exit_at_once() -> None:
    """End a stopping server at once while a thread of runs_models is still alive: Python's finalization with a thread
    inside TensorFlow crashed the process (SIGSEGV or SIGABRT in 2 of 4 servers stopped mid-warm-up) or hung it. The
    server has stopped serving by then and every write of the app is a committed transaction or an atomic file, so
    nothing is lost; the logs are flushed first. Only in a server (`streamlit run`, whose stop exits 0): a process
    that ran the pages in AppTest (pytest) keeps its own exit status."""
    if runtime.exists() and any(thread.is_alive() for thread in list(_with_models)):
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def models_dir() -> Path:
    """$MNIST_APP_MODELS, else the shipped models/ folder."""
    return Path(os.environ.get("MNIST_APP_MODELS") or models.MODELS_DIR)


# the pages show their own spinner; the warm-up thread shows none. A few more entries than models: a retrained
# model's old instance is the least recently used, and goes first.
@st.cache_resource(show_spinner=False, max_entries=16)
def _load_model(name: str, directory: str, stamp: tuple) -> models.Model:
    """One instance per model (per version of its files) per server process, shared by every session (thread-safe
    predict_proba).

    An ensemble's members load through this cache too, so a model that is also a member is held once; the
    ensemble's stamp holds its members', so a retrained member makes it reassemble.
    """
    model = models.load(name, directory, load_member=lambda member: _cached(member, directory))
    log.info("mnist-app loaded model %s from %s", name, directory)  # once per server: the load test counts it
    _held.add((name, directory, stamp))
    return model


def _cached(name: str, directory: str) -> models.Model:
    return _load_model(name, directory, models.stamp(name, directory))


def is_loaded(name: str) -> bool:
    """Whether this server holds the model already, so that reading with it now costs milliseconds, not a load."""
    directory = str(models_dir())
    return (name, directory, models.stamp(name, directory)) in _held


def load_model(name: str) -> models.Model:
    """The loaded model; ModelLoadError (naming the file and the retrain command) if it cannot be."""
    return _cached(name, str(models_dir()))


@st.cache_resource(show_spinner=False)
def _warm_up(directory: str) -> threading.Thread:
    """Load every available model in a background thread, once per server, WARM_UP_AFTER_S after the first page,
    lightest first, and trace its explanation (the first Explain click would otherwise wait 0.3-0.5 s for
    TensorFlow)."""

    def load_all() -> None:
        start = time.perf_counter()
        for name in models.available(directory):
            try:
                explain.prime(_cached(name, directory))
            except models.ModelLoadError as exc:  # the page says so when this model is chosen
                log.warning("mnist-app could not warm up %s: %s", name, exc)
        log.info("mnist-app warm-up done in %.1f s", time.perf_counter() - start)  # benchmarks wait for this line

    thread = threading.Timer(WARM_UP_AFTER_S, load_all)
    thread.name, thread.daemon = "mnist-app-warm-up", True
    return runs_models(thread)


def warm_up_models() -> None:
    """Start loading the Keras models (TensorFlow takes seconds to import) before anyone asks for one.

    Called after a page has rendered, so the first page never waits for it; a NumPy reading never does either.
    """
    _warm_up(str(models_dir()))


def _stamp(name: str) -> float:
    """When a model's reports last changed (0 if they are missing): part of every cache key below."""
    folder = models.model_dir(name, models_dir())
    return max((p.stat().st_mtime for p in folder.glob("*.*") if p.is_file()), default=0.0)


@st.cache_data(show_spinner=False, max_entries=64)
def _read_reports(name: str, directory: str, stamp: float) -> reports.Reports:
    return reports.read(models.model_dir(name, directory))


def load_reports(name: str) -> reports.Reports:
    """A model's history, report and gallery; ReportMissingError if they are missing or unreadable."""
    return _read_reports(name, str(models_dir()), _stamp(name))


def load_whole_history(name: str) -> reports.WholeHistory:
    """A model's epochs from random weights (reports.whole_history): the fine-tune's and its starting point's.

    Not cached: it reads two small files (0.1 ms), and only while the Training curves tab is open.
    """
    return reports.whole_history(name, models_dir())


def keep_keras_state() -> None:
    """Stop Streamlit from clearing Keras's state after every script run (its ScriptRunner calls
    keras.backend.clear_session() whenever keras is imported, for apps that build a model per run). This app loads
    its models once per server, so the clearing only cost: 250 ms of garbage collection after every stroke and
    every fragment's rerun, and TensorFlow's kernel cache, which the next reading rebuilt (four models' readings of
    a digit, 13 ms -> 105 ms). Matplotlib's figures are still closed, as Streamlit does."""
    from streamlit.runtime.scriptrunner import script_runner

    script_runner._clean_problem_modules = _close_figures


def _close_figures() -> None:
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
