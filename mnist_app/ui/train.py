"""Train page: set the source projects' knobs, press Train, watch the curves move, then draw with the network.

The knobs sit on the left, the run on the right (TensorFlow Playground's layout). Training runs on the engine's
workers (training/jobs.py, engine.py); this page only records a run and reads it back, the live view in a fragment that
reruns on a timer, so the page itself never sleeps or loops.
"""

from __future__ import annotations

import threading

import pandas as pd
import streamlit as st

from mnist_app import reports
from mnist_app.data import MnistDataError, heldout, local_source, pendigits
from mnist_app.models import SHIPPED, ModelLoadError, label_of
from mnist_app.reports import charts
from mnist_app.store.drawings import StoreError
from mnist_app.training import jobs as training_jobs
from mnist_app.training import settings
from mnist_app.training.kept_runs import KeptRuns
from mnist_app.ui import compare as compare_settings
from mnist_app.ui import runs
from mnist_app.ui.cache import load_reports, models_dir
from mnist_app.ui.gallery import admin_token_entered
from mnist_app.ui.job_views import ACTIVE, class_runs, ended, keep, live, queue_or_say
from mnist_app.ui.report_views import mnist_test_set
from mnist_app.ui.store import collecting, get_store, resume_code, say_store_error, visitor


@st.cache_resource(show_spinner=False)
def _render_heldout() -> threading.Thread:
    """Render the held-out writers' drawings once per server, in the background, so that the first run's results
    need not wait for them (they are cached on disk after that)."""

    def render() -> None:
        if pendigits.default_path().is_file():
            heldout.drawn_digits()

    thread = threading.Thread(target=render, name="mnist-app-heldout", daemon=True)
    thread.start()
    return thread


def knob_widget(network: str, knob: str, default):
    """The widget of one knob, drawn from its declaration alone (settings.KNOBS: what it offers is what the server
    accepts), keyed per network so that each network keeps its own values."""
    spec, key = settings.KNOBS[knob], f"knob_{network}_{knob}"
    if spec.widget == "text":
        text = str(default) if isinstance(default, int) else ", ".join(str(w) for w in default)
        return st.text_input(spec.label, text, help=spec.help, key=key)
    if spec.widget == "choice":
        index = spec.options.index(default)
        return st.selectbox(
            spec.label, spec.options, index, format_func=lambda o: spec.names.get(o, o), help=spec.help, key=key
        )
    if spec.widget == "switch":
        return st.toggle(spec.label, default, help=spec.help, key=key)
    if spec.widget == "steps":
        return st.select_slider(
            spec.label, spec.options, default, format_func=lambda v: f"{v:g}", help=spec.help, key=key
        )
    kind = type(default)
    low, high, step = kind(spec.low), kind(spec.high), kind(spec.step)
    return st.slider(spec.label, low, high, kind(default), step, help=spec.help, key=key)


def knobs() -> tuple[str, dict, settings.DataSettings]:
    """The chosen network, its knobs' values and the training data, from the left column's widgets."""
    network = st.radio(
        "Network", list(settings.NETWORKS), format_func=lambda n: settings.NETWORKS[n].label, key="train_network"
    )
    st.caption(settings.NETWORKS[network].about)
    values = {knob: knob_widget(network, knob, value) for knob, value in settings.defaults(network).items()}
    st.markdown("**Training data**")
    digits = st.slider(
        "MNIST digits",
        settings.MIN_DIGITS,
        settings.MNIST_TRAIN,
        settings.MNIST_TRAIN,
        1000,
        help="The first N of MNIST's 60,000 training digits; the validation share of them is kept aside.",
        key="train_digits",
    )
    augment = st.toggle(
        "Augmentation", help="Distort the digits afresh each epoch (slant, size, stroke).", key="train_augment"
    )
    pen_file = pendigits.default_path()
    have_pen = pen_file.is_file()
    pen = st.toggle(
        "Pen drawings of writers 1-20",
        help="Add real pen-written digits drawn as on the canvas (rendered once, about a minute, then cached). "
        "Writers 21-30 stay unseen: they measure the run."
        + ("" if have_pen else f" Off: UCI's pen digits are not at {pen_file} (set PENDIGITS)."),
        key="train_pen",
        disabled=not have_pen,
    )
    return network, values, settings.DataSettings(digits, augment, pen)


def start(network: str, values: dict, data: settings.DataSettings) -> None:
    """Train button: queue the run (refused, with the limit named, when a setting is out)."""
    job = queue_or_say("train_error", lambda: training_jobs.submit(network, values, data, visitor().owner))
    if job is not None:
        st.session_state.shown_run = job.id


def results(job: training_jobs.Job) -> None:
    """How a run ended, and what its network does: MNIST test, drawn digits beside the shipped models, the report."""
    if not ended(job):
        return
    shown = reports.read(job.model_folder)
    st.markdown(f"**MNIST test accuracy: {shown.report['test']['accuracy']:.2%}**")
    st.caption(shown.report["config"].get("description", ""))
    st.dataframe(pd.DataFrame(drawn_beside_shipped(job.label, shown.report)), hide_index=True, key="run_vs_shipped")
    if not shown.report.get("drawn"):
        st.caption("Drawn digits not measured: the run found no UCI pen digits (set PENDIGITS to pendigits-orig.tra).")
    left, right = st.columns(2)
    if collecting():
        left.button(
            "Keep",
            key=f"keep_{job.id}",
            on_click=keep,
            args=(job, "train_error"),
            help="Store it for every session and server.",
        )
    if right.button("Draw with it", key=f"draw_{job.id}", type="primary"):
        st.session_state.model = f"{runs.RUN}{job.id}"
        st.switch_page("mnist_app/ui/draw.py")
    with st.expander("Per-class report and confusion matrix"):
        mnist_test_set(shown.report, shown.gallery)


def drawn_beside_shipped(label: str, report: dict) -> list[dict]:
    """The run's MNIST and held-out drawn-digit accuracy in one table with the shipped models'."""
    shipped = reports.read_drawn_results(models_dir()).get("models", {})
    drawn = report.get("drawn") or {}
    rows = [{"model": label, "MNIST test": report["test"]["accuracy"], "drawn, writers 21-30": drawn.get("accuracy")}]
    for name in SHIPPED:
        try:
            mnist = load_reports(name).report["test"]["accuracy"]
        except reports.ReportMissingError:
            continue
        rows.append(
            {
                "model": label_of(name),
                "MNIST test": mnist,
                "drawn, writers 21-30": shipped.get(name, {}).get("accuracy"),
            }
        )
    return [{k: f"{v:.2%}" if isinstance(v, float) else v or "not measured" for k, v in row.items()} for row in rows]


def compare(jobs: list[training_jobs.Job]) -> None:
    """One chart of the validation curves of the chosen runs, shipped models and comparisons."""
    mine = {f"{runs.RUN}{job.id}": job for job in jobs if job.has_model()}
    labels = {name: job.label for name, job in mine.items()}
    labels |= {name: label_of(name) for name in reports.reported_models(models_dir())}
    chosen = st.multiselect(
        "Compare validation curves", list(labels), default=list(mine)[-2:], format_func=labels.get, key="compare_runs"
    )
    histories, losses = {}, {}
    for name in chosen:
        shown = reports.read(mine[name].model_folder) if name in mine else load_reports(name)
        histories[labels[name]] = shown.history
        losses[labels[name]] = shown.report["config"].get("loss", "categorical_crossentropy")
    if histories:
        accuracy, *loss_curves = charts.comparison_curves(histories, losses)
        st.altair_chart(accuracy, width="stretch")
        for column, chart in zip(st.columns(len(loss_curves)), loss_curves, strict=True):
            column.altair_chart(chart, width="stretch")


def kept(mine: str) -> None:
    """The kept runs; this visitor's (`mine`, an owner key) can be deleted."""
    try:
        store_runs = KeptRuns(get_store())
        stored = store_runs.all()
    except StoreError as exc:
        st.caption(f"Keeping runs is off: {exc.for_visitors}")
        return
    for run in stored:
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.write(f"#{run.id} {run.label}")
        if run.owner == mine and right.button("Delete", key=f"delete_kept_{run.id}"):
            try:
                store_runs.delete(run.id, mine)
            except StoreError as exc:
                say_store_error(exc)
                return
            st.rerun()


st.title("Train a network")
try:
    local_source()
except MnistDataError as exc:
    st.error(f"Training needs MNIST: {exc}")
    st.stop()

_render_heldout()
left, right = st.columns([1, 2], gap="large")
with left:
    network, values, data = knobs()
    with st.expander("Compare settings", expanded=bool(st.session_state.get("compare_error"))):
        compare_settings.controls(network, values, data)
try:
    jobs = training_jobs.list_jobs(owner=visitor().owner)
except StoreError as exc:
    say_store_error(exc)
    jobs = []
if jobs and st.session_state.get("shown_run") not in [job.id for job in jobs]:
    st.session_state.shown_run = jobs[-1].id
shown = next((job for job in jobs if job.id == st.session_state.get("shown_run")), None)
with right:
    busy = shown is not None and shown.status in ACTIVE
    st.button("Train", type="primary", on_click=start, args=(network, values, data), disabled=busy, key="train")
    if error := st.session_state.get("train_error"):
        st.error(error)
    if shown is None:
        st.info("Set the knobs and press Train: the loss and accuracy curves appear here as it learns.")
    elif busy:
        live(shown.id)
    else:
        try:
            results(shown)
        except (reports.ReportMissingError, ModelLoadError) as exc:
            st.error(f"{shown.label} cannot be shown: {exc}")
    if len(jobs) > 1:
        labels = {job.id: job.label for job in jobs}
        st.selectbox("Show run", list(labels), format_func=labels.get, key="shown_run")

compare_settings.view(jobs)
if admin_token_entered():
    class_runs()
st.subheader("Compare")
compare(jobs)
if collecting():  # MNIST_APP_COLLECT=off: nothing is written to the database
    st.subheader("Kept runs")
    kept(visitor().owner)
resume_code()
