"""Cached access to models and reports for the pages: one model per server, reports as copies."""

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
def load_model(name: str, directory: str) -> models.Model:
    """One instance per model per server process, shared by every session (thread-safe predict_proba)."""
    model = models.load(name, directory)
    log.info("mnist-app loaded model %s from %s", name, directory)  # once per server: the load test counts it
    return model


def get_model(name: str) -> models.Model | str:
    """The loaded model, or the error message to show instead (a broken model never breaks the page)."""
    try:
        return load_model(name, str(models_dir()))
    except models.ModelLoadError as exc:
        return str(exc)


@st.cache_data(show_spinner=False)
def load_reports(directory: str) -> tuple[dict, dict, dict] | str:
    """(history, report, misclassified gallery) of one model folder, or the reason they are missing."""
    try:
        folder = Path(directory)
        return reports.read_history(folder), reports.read_report(folder), reports.read_misclassified(folder)
    except reports.ReportMissingError as exc:
        return str(exc)
