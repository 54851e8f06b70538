"""The Train page's Compare settings: vary one or two knobs of the recipe set on the left, press once, and watch the
2-8 runs train on the workers with their curves on one chart, then read their results side by side and keep any.

The variations are built, checked and queued by training/sweeps.py; this module reads widgets and renders.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from mnist_app.reports import charts
from mnist_app.training import jobs as training_jobs
from mnist_app.training import queue, settings, sweeps
from mnist_app.ui.job_views import keep, queue_or_say
from mnist_app.ui.store import collecting, visitor

LIVE_EVERY_S = 1.0  # the comparison's chart rereads its runs' progress this often
NOTHING = ""  # the second knob's "vary nothing else"


def controls(network: str, values: dict, data: settings.DataSettings) -> None:
    """The knobs to vary and their values, and the button that queues every combination as a run."""
    varied = {}
    knob = st.selectbox("Vary", sweeps.variable_knobs(network), format_func=sweeps.name_of, key="compare_knob")
    varied[knob] = _values(network, knob)
    others = [NOTHING] + [k for k in sweeps.variable_knobs(network) if k != knob]
    also = st.selectbox(
        "and also", others, format_func=lambda k: sweeps.name_of(k) if k else "nothing else", key="compare_knob_2"
    )
    if also:
        varied[also] = _values(network, also)
    count = math.prod(len(chosen) for chosen in varied.values())
    st.caption(
        "Each setting is a run of its own on the recipe above, counted against your limit of "
        f"{training_jobs.runs_per_visitor()} runs waiting or training"
        + (f": these {count} settings are {count} runs. " if count > 1 else ". ")
        + "One worker trains them in turn; several train them at once."
    )
    label = f"Compare {count} settings" if count > 1 else "Compare settings"
    st.button(label, on_click=start, args=(network, values, data, varied), key="compare_start")
    if error := st.session_state.get("compare_error"):
        st.error(error)


def _values(network: str, knob: str) -> list:
    return st.multiselect(
        f"{sweeps.name_of(knob)}: values to compare",
        sweeps.choices(knob),
        format_func=lambda value: sweeps.say(knob, value),
        max_selections=sweeps.MAX_SETTINGS,
        key=f"compare_values_{network}_{knob}",
    )


def start(network: str, values: dict, data: settings.DataSettings, varied: dict) -> None:
    """Compare button: queue every variation (refused, with what is out named, and nothing queued, when any is)."""
    runs = queue_or_say("compare_error", lambda: sweeps.submit(network, values, data, varied, visitor().owner))
    if runs is not None:
        st.session_state.shown_comparison = runs[0].comparison


def view(runs: list[training_jobs.Job]) -> None:
    """The visitor's latest (or chosen) comparison: live while any of its runs waits or trains, then its table."""
    grouped = sweeps.comparisons(runs)
    if not grouped:
        return
    st.subheader("Compared settings")
    if st.session_state.get("shown_comparison") not in grouped:
        st.session_state.shown_comparison = list(grouped)[-1]
    if len(grouped) > 1:
        titles = {key: sweeps.title(compared) for key, compared in grouped.items()}
        st.selectbox("Show comparison", list(titles), format_func=titles.get, key="shown_comparison")
    compared = grouped[st.session_state.shown_comparison]
    if sweeps.active(compared):
        live(tuple(run.id for run in compared))
    else:
        ended(compared)


@st.fragment(run_every=LIVE_EVERY_S)
def live(run_ids: tuple[str, ...]) -> None:
    """The comparison while it trains: where each run stands, and every run's curves on one chart."""
    compared = [training_jobs.read(run_id) for run_id in run_ids]
    if not sweeps.active(compared):
        st.rerun(scope="app")  # all ended: the page shows the table
    for run in compared:
        st.caption(f"{run.label}: {_where(run)}")
    chart(compared)
    owner = visitor().owner
    if st.button("Stop them all", key="compare_stop"):
        for run in compared:
            queue.request_stop(run, owner)


def _where(run: training_jobs.Job) -> str:
    if run.status == training_jobs.QUEUED:
        return f"queued, position {queue.queue_position(run)}"
    if run.status == training_jobs.RUNNING:
        state = run.progress
        if state.get("phase", "preparing") == "preparing":
            return "starting"
        return f"epoch {state['epoch'] + 1}/{state['epochs']}, {state.get('phase', 'training')}"
    return run.message or run.status


def chart(compared: list[training_jobs.Job]) -> None:
    progress = {run.label: run.progress for run in compared}
    epochs = max(int(run.values.get("epochs", 1)) for run in compared)
    st.altair_chart(charts.live_comparison(progress, epochs), width="stretch")


def ended(compared: list[training_jobs.Job]) -> None:
    """The finished comparison: its curves, its table, and a Keep button for each run that left a network."""
    compared = [training_jobs.read(run) for run in compared]  # listed runs come without their progress
    chart(compared)
    st.dataframe(pd.DataFrame(sweeps.results(compared)), hide_index=True, key="comparison_table")
    keepable = [run for run in compared if run.has_model()]
    if not (collecting() and keepable):
        return
    for column, run in zip(st.columns(len(keepable)), keepable, strict=True):
        column.button(
            f"Keep run {run.number}",
            key=f"keep_compared_{run.id}",
            on_click=keep,
            args=(run, "compare_error"),
            help=f"Store {run.label} for every session and server.",
        )
