"""Drawings page: what people saved, how well today's models read it (the database counts), and the drawings."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_app import models
from mnist_app.store import files as drawing_files
from mnist_app.store import readings
from mnist_app.store.drawings import DrawingStore, StoreError
from mnist_app.ui import gallery
from mnist_app.ui.store import collecting, fill_readings, get_store, model_versions, resume_code, say_store_error

PART = 50_000  # drawings per downloaded file: a page's download is built in the server's memory


@st.cache_data(show_spinner=False, max_entries=256)
def _summary(url: str, name: str, version: str, revision: tuple[int, int]) -> readings.Summary:
    return readings.summary(get_store(), name, version)


@st.cache_data(show_spinner=False, max_entries=64)
def _confusion(url: str, name: str, version: str, revision: tuple[int, int]) -> np.ndarray:
    return readings.confusion(get_store(), name, version)


def reading_progress(store: DrawingStore, behind: dict[str, str]) -> None:
    """The models still reading the saved drawings (a retrained model), live; the page reruns when they are done."""

    @st.fragment(run_every=1.0)
    def live() -> None:
        try:
            done = {name: readings.progress(store, name, version) for name, version in behind.items()}
        except StoreError as exc:
            say_store_error(exc)
            return
        if all(p.complete for p in done.values()):
            st.rerun(scope="app")
        for name, progress in done.items():
            filler = fill_readings(name, behind[name])
            if filler.error:
                st.warning(f"{models.label_of(name)} cannot read the saved drawings: {filler.error}")
                continue
            where = " (on another server)" if filler.busy_elsewhere else ""
            share = progress.done / max(1, progress.total)
            st.progress(share, f"{models.label_of(name)} is reading the saved drawings{where}: "
                        f"{progress.done:,} of {progress.total:,}")  # fmt: skip

    live()


@st.cache_data(show_spinner=False, max_entries=64)
def _counts(url: str, revision: tuple[int, int]) -> dict[int, int]:
    return get_store().counts()


def accuracy(store: DrawingStore, versions: dict[str, str], revision: tuple[int, int]) -> None:
    """Each model's accuracy and its confusion matrix: aggregates in the database, cached per store revision."""
    import pandas as pd  # here, not at the top: see page()

    from mnist_app.reports import charts

    summaries = {name: _summary(store.url, name, version, revision) for name, version in versions.items()}
    for name, cached in summaries.items():
        if cached.read < revision[0]:  # cached while its readings were being made: ask again until they are all made
            _summary.clear(store.url, name, versions[name], revision)
            summaries[name] = _summary(store.url, name, versions[name], revision)
    behind = {name: versions[name] for name, s in summaries.items() if s.read < revision[0]}
    if behind:
        reading_progress(store, behind)
    rows = [
        {"model": models.label_of(n), "accuracy": s.accuracy, "misread": s.misread, "read": s.read}
        for n, s in summaries.items()
    ]
    shown = {"accuracy": "{:.2%}", "misread": "{:,}", "read": "{:,}"}
    st.table(pd.DataFrame(rows).style.format(shown), hide_index=True)  # a static table: four rows need no data grid
    chosen = st.selectbox("Confusion matrix of", list(versions), format_func=models.label_of, key="drawings_model")
    matrix = _confusion(store.url, chosen, versions[chosen], revision)
    st.altair_chart(charts.confusion_matrix(matrix, f"Confusion matrix (saved drawings, {models.label_of(chosen)})"))


def downloads(store: DrawingStore, total: int) -> None:
    parts = -(-total // PART)
    part = 0
    if parts > 1:
        part = st.selectbox(
            "Part", range(parts), key="download_part",
            format_func=lambda p: f"drawings {p * PART + 1:,} to {min(total, (p + 1) * PART):,} (oldest first)",
        )  # fmt: skip
        st.caption("For every drawing in one file: `python -m mnist_app.store.cli export drawings.npz`.")
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


def saved_per_digit(counts: dict[int, int]) -> None:
    import pandas as pd  # here, not at the top: see page()

    chart = pd.DataFrame({"drawings": counts.values()}, index=[str(d) for d in counts])
    st.bar_chart(chart, height=200, x_label="digit")


def page() -> None:
    """The gallery comes first, the figures after it: their table and charts need pandas and Altair, whose first import
    holds a fresh server for 0.5-0.8 s, while the gallery's pictures need neither."""
    st.title("Drawings")
    if not collecting():
        st.info("Saving drawings is off here (MNIST_APP_COLLECT=off), and so is this page.")
        return
    store = get_store()
    revision = store.revision()  # (count, last id): the cached counts below are redone when it changes
    total = revision[0]
    if total == 0:
        st.info("No drawings are saved yet: draw a digit on the Draw page, pick the digit it is and press Save.")
        return
    st.caption(f"{total:,} drawing{'' if total == 1 else 's'} saved, each with the digit its author said it is.")
    versions = model_versions()
    for name in [name for name in models.SHIPPED if name not in versions]:
        st.warning(f"{models.label_of(name)} cannot be used: its files are missing ({models.retrain_command(name)}).")
    resume_code()  # the visitor's own drawings may be deleted here, from any device that has their code
    if versions:
        gallery.admin_login()
        gallery.show(store, versions)
        st.subheader("Today's models on the saved drawings")
        accuracy(store, versions, revision)
    shared = _counts(store.url, revision)  # the public set: what the downloads hold (private teach drawings stay out)
    st.subheader("Saved, per digit")
    saved_per_digit(shared)
    st.subheader("Download")
    downloads(store, sum(shared.values()))


try:
    page()
except StoreError as exc:  # the database went away mid-page: say so; the other pages go on reading digits
    say_store_error(exc)
