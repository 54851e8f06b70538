"""Drawings page: what people saved, how well today's models read it, and the drawings themselves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from mnist_app import charts, drawings, metrics, models
from mnist_app.drawings import StoreError
from mnist_app.plots import enlarge
from mnist_app.ui.cache import models_dir
from mnist_app.ui.store import collecting, get_store, rereading, saved_drawings

PER_PAGE = 24
ALL = "every digit"

st.title("Drawings")
if not collecting():
    st.info("Saving drawings is off here (MNIST_APP_COLLECT=off), and so is this page.")
    st.stop()
try:
    store = get_store()
    revision = store.revision()
except StoreError as exc:
    st.error(f"The drawing store cannot be used: {exc}")
    st.stop()
if revision[0] == 0:
    st.info("No drawings are saved yet: draw a digit on the Draw page, pick the digit it is and press Save.")
    st.stop()

counts = store.counts()
plural = "" if revision[0] == 1 else "s"
st.caption(f"{revision[0]:,} drawing{plural} saved in {store.url}, each with the digit its author said it is.")
st.bar_chart(pd.DataFrame({"drawings": counts.values()}, index=[str(d) for d in counts]), height=200, x_label="digit")

st.subheader("Today's models on the saved drawings")
readings, broken = {}, {}
for name in models.available(models_dir()):
    try:
        readings[name] = rereading(name)
    except models.ModelLoadError as exc:
        broken[name] = str(exc)
for name, reason in broken.items():
    st.warning(f"{models.label_of(name)} cannot be used: {reason}")
st.dataframe(
    pd.DataFrame(
        [
            {"model": models.label_of(n), "accuracy": r.accuracy(), "misread": int(r.misread().sum())}
            for n, r in readings.items()
        ]
    ),
    hide_index=True,
    column_config={"accuracy": st.column_config.NumberColumn(format="percent")},
    key="drawings_accuracy",
)
if not readings:
    st.stop()
chosen = st.selectbox("Confusion matrix of", list(readings), format_func=models.label_of, key="drawings_model")
matrix = metrics.confusion_matrix(readings[chosen].labels, readings[chosen].predicted)
st.altair_chart(charts.confusion_matrix(matrix, f"Confusion matrix (saved drawings, {models.label_of(chosen)})"))


def shown_as(choice: str) -> str:
    return choice if choice == "all drawings" else f"misread by {models.label_of(choice)}"


st.subheader("Gallery")
left, middle, right = st.columns(3)
only = left.selectbox("Show", ["all drawings", *readings], format_func=shown_as, key="gallery_filter")
digit_filter = middle.selectbox("Digit", [ALL, *range(10)], key="gallery_digit")
label = None if digit_filter == ALL else int(digit_filter)
if only == "all drawings":
    total = store.count(label)
else:
    misread = readings[only]
    wrong = misread.misread() & (True if label is None else misread.labels == label)
    wrong_ids = misread.ids[wrong][::-1]  # newest first
    total = len(wrong_ids)
pages = max(1, -(-total // PER_PAGE))
page = right.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, key="gallery_page")
offset = (page - 1) * PER_PAGE
if only == "all drawings":
    shown = store.page(offset, PER_PAGE, label=label)
else:
    shown = store.fetch(wrong_ids[offset : offset + PER_PAGE].tolist())
if not shown:
    st.info("Nothing to show with these filters.")


def delete(drawing_id: int) -> None:
    store.delete(drawing_id)
    st.toast(f"Drawing #{drawing_id} deleted")


def reading_words(drawing: drawings.Drawing) -> str:
    """'NumPy MLP 4 ✓ · Keras CNN 9 ✗' from today's readings of this drawing."""
    words = []
    for name, r in readings.items():
        at = int(np.searchsorted(r.ids, drawing.id))
        if at < len(r.ids) and r.ids[at] == drawing.id:
            predicted = int(r.predicted[at])
            words.append(f"{models.label_of(name)} {predicted} {'✓' if predicted == drawing.label else '✗'}")
    return " · ".join(words)


for row in range(0, len(shown), 6):
    for column, drawing in zip(st.columns(6), shown[row : row + 6], strict=False):
        with column:
            st.image(drawing.canvas_png or enlarge(drawing.digit), width=120)
            st.markdown(f"**{drawing.label}** · #{drawing.id}")
            st.caption(reading_words(drawing))
            st.button("Delete", key=f"delete_{drawing.id}", on_click=delete, args=(drawing.id,))

st.subheader("Download")
left, right = st.columns(2)
left.download_button(
    "Download .npz (images, labels)",
    data=lambda: drawings.npz_bytes(saved_drawings()),
    file_name="drawings.npz",
    mime="application/octet-stream",
    on_click="ignore",
    key="download_npz",
)
right.download_button(
    "Download CSV",
    data=lambda: drawings.csv_text(saved_drawings()),
    file_name="drawings.csv",
    mime="text/csv",
    on_click="ignore",
    key="download_csv",
)
