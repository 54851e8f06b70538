"""A trained model's report as the pages show it: the per-class table, the confusion matrix, the digits it gets
wrong, and its training curves (a fine-tune's from the model it started from). The Diagnostics page shows the shipped
models with it, the Train page a run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_app import models, reports
from mnist_app.reports import charts

PERCENT = st.column_config.NumberColumn(format="%.1f%%")


def mnist_test_set(report: dict, gallery: dict) -> None:
    """Per-class report, confusion matrix and the most confident mistakes, on MNIST's 10,000 test digits."""
    rows = pd.DataFrame(reports.per_class_rows(report))
    rows[["precision", "recall", "f1"]] *= 100
    st.dataframe(
        rows,
        hide_index=True,
        key="per_class_table",
        height=35 * (len(rows) + 1) + 3,  # every row, the averages included, without scrolling
        column_config={"precision": PERCENT, "recall": PERCENT, "f1": PERCENT},
    )
    left, right = st.columns([3, 2])
    with left:
        st.altair_chart(charts.confusion_matrix(report["test"]["confusion_matrix"], "Confusion matrix (test set)"))
    with right:
        st.markdown("**Most confused**")
        st.markdown("\n".join(f"- {s}" for s in reports.confusion_sentences(report["test"]["confusion_matrix"])))
    st.subheader("Digits it gets wrong")
    st.caption("The true digit → what the model read, and how sure it was. Most confident mistakes first.")
    st.image(charts.mistakes_sheet(gallery))


def training_curves(whole: reports.WholeHistory) -> None:
    """Loss and accuracy per epoch, train against validation, from random weights: a fine-tune's curves start with
    the model it started from, and a dashed rule marks where the fine-tune takes over."""
    history, stages = whole.history, whole.stages
    if not history["loss"]:
        st.info("No epochs of its own: it reads with trained models. Their curves are under their names above.")
        return
    starts = {stage.first: "fine-tune →" for stage in stages[1:]}
    for column, metric in zip(st.columns(2), ("loss", "accuracy"), strict=True):
        column.altair_chart(charts.training_curves(history, metric, starts), width="stretch")
    if len(stages) > 1:
        steps = [
            f"{_epochs(s)} {'as' if i == 0 else 'fine-tuned as'} {models.label_of(s.model)}"
            for i, s in enumerate(stages)
        ]
        st.caption(f"The whole training, from random weights: {', then '.join(steps)}.")
    if augmented := [_epochs(s) for s in stages if s.augmented]:
        st.caption(
            f"Validation beats training in {', '.join(augmented)}: the training digits were distorted afresh every "
            "epoch (harder), the validation digits are MNIST's own."
        )


def _epochs(stage: reports.Stage) -> str:
    return f"epoch {stage.first}" if stage.first == stage.last else f"epochs {stage.first}-{stage.last}"
