"""Diagnostics page: how each model was trained and where it fails (read from its reports, never retrained)."""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from mnist_app import models, reports
from mnist_app.reports import charts
from mnist_app.ui.cache import load_reports, load_whole_history, models_dir
from mnist_app.ui.report_views import PERCENT, mnist_test_set, training_curves

SECTIONS = ["Drawn digits and confidence", "MNIST test set", "Training curves"]  # drawn first: the real measure

st.title("Diagnostics")
folders = reports.reported_models(models_dir())
names = list(dict.fromkeys([*models.SHIPPED, *folders]))


@st.fragment
def chosen_model(names: list[str]) -> None:
    """Everything about one model. A fragment: switching model reruns this alone, not the comparisons below; and
    only the open tab runs, so the browser draws one section's charts per switch (benchmarks/speed.py times it)."""
    # in the URL, as the Draw page's: a reload or a shared link opens on the same model
    name = st.selectbox("Model", names, format_func=models.label_of, key="diagnostics_model", bind="query-params")

    try:
        shown = load_reports(name)
    except reports.ReportMissingError as exc:
        st.warning(f"No reports for {models.label_of(name)}: {exc}. Make them with: `{models.retrain_command(name)}`")
        return
    report = shown.report
    drawn_results = reports.read_drawn_results(models_dir())
    drawn = drawn_results.get("models", {}).get(name)

    columns = st.columns(3)
    columns[0].metric("MNIST test accuracy", f"{report['test']['accuracy']:.2%}")
    columns[1].metric(
        "Drawn digits (held-out writers)",
        f"{drawn['accuracy']:.2%}" if drawn else "not measured",
        help="benchmarks/drawn_digits.py: real pen-written digits replayed as canvas drawings",
    )
    columns[2].metric(
        "Training time",
        f"{report['training_seconds']:.0f} s" if report.get("trains_itself", True) else "none of its own",
    )
    st.download_button(  # read, or drawn, on click only (data is a callable), and a click reruns nothing
        "Download the report, PNG",
        functools.partial(reports.report_png, models.model_dir(name, models_dir())),
        f"{name}-report.png",
        "image/png",
        key=f"report_png_{name}",
        on_click="ignore",
    )
    about = [report["config"].get("description", ""), f"trained on {report['data']['train']}"]
    if "n_train" in report["data"]:
        about.append(f"{report['data']['n_train']:,} digits, {report['data']['n_validation']:,} for validation")
    st.caption(" · ".join(part for part in about if part))
    if drawn:
        misreads = reports.confusion_sentences(drawn["confusion_matrix"], k=3)
        st.caption(f"Commonest misreads of the {drawn_results['n_digits']:,} drawn digits: " + "; ".join(misreads))

    drawn_tab, test_tab, training_tab = st.tabs(SECTIONS, key="diagnostics_section", on_change="rerun")
    if drawn_tab.open:
        with drawn_tab:
            drawn_digits_and_confidence(name, report, drawn)
    if test_tab.open:
        with test_tab:
            mnist_test_set(report, shown.gallery)
    if training_tab.open:
        with training_tab:
            training_curves(load_whole_history(name))


def drawn_digits_and_confidence(name: str, report: dict, drawn: dict | None) -> None:
    """MNIST against drawn accuracy, worst writer and calibration side by side, and the reliability diagram."""
    st.dataframe(pd.DataFrame(reports.side_by_side(report, drawn)), hide_index=True, key="honesty_table")
    if report.get("calibration"):
        fit = report["calibration"]
        curves = {"before": fit["reliability_before"], "after": fit["reliability_after"]}
        st.altair_chart(charts.reliability_diagram(curves), width="stretch")
        threshold = f"Temperature {fit['temperature']:.2f}, unsure below {fit['unsure_below']:.0%}"
        st.caption(f"{threshold}: fitted on {fit['fitted_on']}.")
    else:
        st.info(reports.uncalibrated_note(name))


@st.fragment
def comparisons(names: list[str]) -> None:
    """The comparisons' validation curves, the lines to show picked by name, and a table led by their test accuracy.
    A fragment: picking lines reruns this alone, not the chosen model above."""
    st.subheader("Comparisons: the source projects' variants and the MNIST-only models")
    compared = {models.label_of(name): load_reports(name) for name in names}
    shown = st.multiselect(
        "Lines to show",
        list(compared),
        default=list(compared),
        key="compared_models",
        help="Each model keeps its colour whichever are shown.",
    )
    losses = {label: r.report["config"].get("loss", "categorical_crossentropy") for label, r in compared.items()}
    if shown:
        histories = {label: r.history for label, r in compared.items()}
        accuracy, *loss_curves = charts.comparison_curves(histories, losses, shown)
        st.altair_chart(accuracy, width="stretch")
        for column, chart in zip(st.columns(len(loss_curves)), loss_curves, strict=True):
            column.altair_chart(chart, width="stretch")
    else:
        st.info("Pick the models whose curves to draw.")
    table = [
        {
            "model": label,
            "test accuracy": 100 * r.report["test"]["accuracy"],  # the key column, before the long descriptions
            "what": r.report["config"].get("description", ""),
        }
        for label, r in compared.items()
    ]
    st.dataframe(
        pd.DataFrame(table),
        hide_index=True,
        key="comparison_table",
        height=35 * (len(table) + 1) + 3,  # every row without scrolling, as the per-class table
        column_config={"test accuracy": PERCENT},
    )


chosen_model(names)
if compared := [other for other in folders if other not in models.SHIPPED]:
    comparisons(compared)
