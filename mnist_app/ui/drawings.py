"""Drawings page: what people saved, how well today's models read it (the database counts), and the drawings."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_app import charts, drawing_files, models, readings
from mnist_app.drawings import DrawingStore, StoreError
from mnist_app.ui import gallery
from mnist_app.ui.store import collecting, fill_readings, get_store, model_versions, say_store_error

PART = 50_000  # drawings per downloaded file: a page's download is built in the server's memory


@st.fragment(run_every=1.0)
def reading_progress(store: DrawingStore, versions: dict[str, str]) -> None:
    """The models still reading the saved drawings (a retrained model), live; the page reruns when they are done."""
    try:
        behind = {n: readings.progress(store, n, v) for n, v in versions.items()}
    except StoreError as exc:
        say_store_error(exc)
        return
    behind = {n: p for n, p in behind.items() if not p.complete}
    for name, done in behind.items():
        filler = fill_readings(name, versions[name])
        if filler.error:
            st.warning(f"{models.label_of(name)} cannot read the saved drawings: {filler.error}")
            continue
        where = " (on another server)" if filler.busy_elsewhere else ""
        st.progress(done.done / max(1, done.total), f"{models.label_of(name)} is reading the saved drawings{where}: "
                    f"{done.done:,} of {done.total:,}")  # fmt: skip
    if st.session_state.get("behind", set()) != set(behind):
        st.session_state.behind = set(behind)
        st.rerun(scope="app")


def accuracy(store: DrawingStore, versions: dict[str, str]) -> None:
    summaries = {name: readings.summary(store, name, version) for name, version in versions.items()}
    rows = [
        {"model": models.label_of(n), "accuracy": s.accuracy, "misread": s.misread, "read": s.read}
        for n, s in summaries.items()
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={"accuracy": st.column_config.NumberColumn(format="percent")},
        key="drawings_accuracy",
    )
    chosen = st.selectbox("Confusion matrix of", list(versions), format_func=models.label_of, key="drawings_model")
    matrix = readings.confusion(store, chosen, versions[chosen])
    st.altair_chart(charts.confusion_matrix(matrix, f"Confusion matrix (saved drawings, {models.label_of(chosen)})"))


def downloads(store: DrawingStore, total: int) -> None:
    parts = -(-total // PART)
    part = 0
    if parts > 1:
        part = st.selectbox(
            "Part", range(parts), key="download_part",
            format_func=lambda p: f"drawings {p * PART + 1:,} to {min(total, (p + 1) * PART):,} (oldest first)",
        )  # fmt: skip
        st.caption("For every drawing in one file: `python -m mnist_app.store_cli export drawings.npz`.")
    left, right = st.columns(2)
    for column, fmt, mime in ((left, "npz", "application/octet-stream"), (right, "csv", "text/csv")):
        column.download_button(
            f"Download .{fmt}" if parts == 1 else f"Download part {part + 1} of {parts}, .{fmt}",
            data=lambda fmt=fmt: drawing_files.as_bytes(store, fmt, part * PART, PART),
            file_name=f"drawings.{fmt}" if parts == 1 else f"drawings-part{part + 1}.{fmt}",
            mime=mime,
            on_click="ignore",
            key=f"download_{fmt}",
        )


def page() -> None:
    st.title("Drawings")
    if not collecting():
        st.info("Saving drawings is off here (MNIST_APP_COLLECT=off), and so is this page.")
        return
    store = get_store()
    counts = store.counts()
    total = sum(counts.values())
    if total == 0:
        st.info("No drawings are saved yet: draw a digit on the Draw page, pick the digit it is and press Save.")
        return
    st.caption(f"{total:,} drawing{'' if total == 1 else 's'} saved, each with the digit its author said it is.")
    chart = pd.DataFrame({"drawings": counts.values()}, index=[str(d) for d in counts])
    st.bar_chart(chart, height=200, x_label="digit")
    st.subheader("Today's models on the saved drawings")
    versions = model_versions()
    for name in set(models.SHIPPED) - set(versions):
        st.warning(f"{models.label_of(name)} cannot be used: its files are missing ({models.retrain_command(name)}).")
    if not versions:
        return
    reading_progress(store, versions)
    accuracy(store, versions)
    st.subheader("Gallery")
    gallery.admin_login()
    gallery.show(store, versions)
    st.subheader("Download")
    downloads(store, total)


try:
    page()
except StoreError as exc:  # the database went away mid-page: say so; the other pages go on reading digits
    say_store_error(exc)
