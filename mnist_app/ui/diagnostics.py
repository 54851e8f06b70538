"""Diagnostics page: how each model was trained and where it fails (read from its reports, never retrained)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_app import models, plots, reports
from mnist_app.ui.cache import load_reports, models_dir

st.title("Diagnostics")
folders = reports.reported_models(models_dir())
names = list(dict.fromkeys([*models.SHIPPED, *folders]))
name = st.selectbox("Model", names, format_func=models.label_of, key="diagnostics_model")

try:
    shown = load_reports(name, str(models_dir()))
except reports.ReportMissingError as exc:
    st.warning(f"No reports for {models.label_of(name)}: {exc}. Make them with: `{models.retrain_command(name)}`")
    st.stop()
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
about = [report["config"].get("description", ""), f"trained on {report['data']['train']}"]
if "n_train" in report["data"]:
    about.append(f"{report['data']['n_train']:,} digits, {report['data']['n_validation']:,} for validation")
st.caption(" · ".join(part for part in about if part))
if drawn:
    misreads = reports.confusion_sentences(drawn["confusion_matrix"], k=3)
    st.caption(f"Commonest misreads of the {drawn_results['n_digits']:,} drawn digits: " + "; ".join(misreads))

st.subheader("Training curves")
if shown.history["loss"]:
    st.pyplot(plots.training_curves(shown.history))
else:
    st.info("No epochs of its own: it reads with trained models. Their curves are under their names above.")

st.subheader("Per-class report (MNIST test set)")
st.dataframe(pd.DataFrame(reports.per_class_rows(report)), hide_index=True, key="per_class_table")

left, right = st.columns([3, 2])
with left:
    st.pyplot(plots.confusion_heatmap(report["test"]["confusion_matrix"]))
with right:
    st.markdown("**Most confused**")
    st.markdown("\n".join(f"- {s}" for s in reports.confusion_sentences(report["test"]["confusion_matrix"])))

st.subheader("Digits it gets wrong")
st.pyplot(plots.misclassified_grid(shown.gallery))

comparisons = {}
for other in folders:
    if other not in models.SHIPPED:
        try:
            comparisons[other] = load_reports(other, str(models_dir()))
        except reports.ReportMissingError:
            continue
if comparisons:
    st.subheader("Comparisons: the source projects' variants and the MNIST-only CNN")
    st.pyplot(plots.comparison_curves({n: r.history for n, r in comparisons.items()}))
    rows = [
        {"model": n, "what": r.report["config"].get("description", ""), "test accuracy": r.report["test"]["accuracy"]}
        for n, r in comparisons.items()
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="comparison_table")
