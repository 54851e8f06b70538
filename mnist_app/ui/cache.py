"""Cached loaders for the pages: one model per server process, reports as copies. Errors are raised, typed."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st
from streamlit.logger import get_logger

from mnist_app import models, reports

log = get_logger(__name__)


def models_dir() -> Path:
    """$MNIST_APP_MODELS, else the shipped models/ folder."""
    return Path(os.environ.get("MNIST_APP_MODELS") or models.MODELS_DIR)


@st.cache_resource(show_spinner="Loading the model…")
def _load_model(name: str, directory: str) -> models.Model:
    """One instance per model per server process, shared by every session (thread-safe predict_proba).

    An ensemble's members load through this cache too, so a model that is also a member is held once.
    """
    model = models.load(name, directory, load_member=lambda member: _load_model(member, directory))
    log.info("mnist-app loaded model %s from %s", name, directory)  # once per server: the load test counts it
    return model


def load_model(name: str) -> models.Model:
    """The loaded model; ModelLoadError (naming the file and the retrain command) if it cannot be."""
    return _load_model(name, str(models_dir()))


@st.cache_data(show_spinner=False)
def load_reports(name: str, directory: str) -> reports.Reports:
    """A model's history, report and gallery; ReportMissingError if they are missing or unreadable."""
    return reports.read(models.model_dir(name, directory))
