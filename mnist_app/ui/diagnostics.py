"""Diagnostics page: how each model was trained and where it fails (read from its reports, never retrained)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_app import models, plots, reports
from mnist_app.ui.state import load_reports, models_dir


def describe(config: dict) -> str:
    """The config's own description, or one made from a NumPy network's hyperparameters."""
    if config.get("description") or "hidden" not in config or not isinstance(config["hidden"], int):
        return config.get("description", "")
    return (
        f"784-{config['hidden']}-10 ReLU/softmax, {config['optimizer']} lr {config['learning_rate']:g} "
        f"({config['schedule']}), batch {config['batch_size']}, {config['epochs']} epochs"
    )


st.title("Diagnostics")
folders = reports.reported_models(models_dir())
names = list(dict.fromkeys([*models.SHIPPED, *folders]))
name = st.selectbox("Model", names, format_func=models.label_of, key="diagnostics_model")

loaded = load_reports(str(folders.get(name, models.model_dir(name, models_dir()))))
if isinstance(loaded, str):
    st.warning(f"No reports for {models.label_of(name)}: {loaded}. Make them with: `{models.retrain_command(name)}`")
    st.stop()
history, report, gallery = loaded
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
    f"{report['training_seconds']:.0f} s",
    help="its members', together: an ensemble trains nothing itself" if models.kind_of(name) == "ensemble" else None,
)
about = [
    describe(report["config"]),
    f"trained on {report['data']['train']}",
    f"{report['data']['n_train']:,} digits, {report['data']['n_validation']:,} for validation",
]
st.caption(" · ".join(part for part in about if part))
if drawn:
    misreads = reports.confusion_sentences(drawn["confusion_matrix"], k=3)
    st.caption(f"Commonest misreads of the {drawn_results['n_digits']:,} drawn digits: " + "; ".join(misreads))

st.subheader("Training curves")
if history["loss"]:
    st.pyplot(plots.training_curves(history))
else:
    st.info("No epochs of its own: it averages trained models. Their curves are under their names above.")

st.subheader("Per-class report (MNIST test set)")
st.dataframe(pd.DataFrame(reports.per_class_rows(report)), hide_index=True, key="per_class_table")

left, right = st.columns([3, 2])
with left:
    st.pyplot(plots.confusion_heatmap(report["test"]["confusion_matrix"]))
with right:
    st.markdown("**Most confused**")
    st.markdown("\n".join(f"- {s}" for s in reports.confusion_sentences(report["test"]["confusion_matrix"])))

st.subheader("Digits it gets wrong")
st.pyplot(plots.misclassified_grid(gallery))

comparisons = {n: load_reports(str(folders[n])) for n in folders if n not in models.SHIPPED}
comparisons = {n: r for n, r in comparisons.items() if not isinstance(r, str)}
if comparisons:
    st.subheader("Comparisons: the source projects' variants and the MNIST-only CNN")
    st.pyplot(plots.comparison_curves({n: h for n, (h, _, _) in comparisons.items()}))
    st.dataframe(
        pd.DataFrame(
            [
                {"model": n, "what": r["config"].get("description", ""), "test accuracy": r["test"]["accuracy"]}
                for n, (_, r, _) in comparisons.items()
            ]
        ),
        hide_index=True,
        key="comparison_table",
    )

st.subheader("Drawn digits and honest confidence")
st.dataframe(pd.DataFrame(reports.side_by_side(report, drawn)), hide_index=True, key="honesty_table")
if report.get("calibration"):
    fit = report["calibration"]
    st.pyplot(plots.reliability_diagram({"before": fit["reliability_before"], "after": fit["reliability_after"]}))
    st.caption(
        f"Temperature {fit['temperature']:.2f}, unsure below {fit['unsure_below']:.0%}: fitted on {fit['fitted_on']}."
    )
else:
    st.info(f"Not calibrated: it says unsure below 50%. Calibrate with: `{models.retrain_command(name)}`")
