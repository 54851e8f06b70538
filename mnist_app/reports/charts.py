"""The Diagnostics and Drawings pages' charts, as Vega-Lite specs (Altair) that the browser draws, and the
sheet of misread digits.

A page sends a few kilobytes of numbers instead of pictures: drawing a model's figures with matplotlib on
the server took about a second (issue 15 asks a model switch <= 1 s); building these takes milliseconds.
They also follow the app's light or dark theme and show each value on hover. This module never imports
streamlit; each function is pure (report data in, chart or picture out).
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

HEIGHT = 300  # pixels, axes and legend included; each chart is as wide as its column
LIVE_HEIGHT = 260  # pixels of the plot itself: a run's curves are read while they move
TOP = alt.Legend(orient="top", title=None)  # one row above the plot, so the plot keeps its height
DISTINCT = alt.Scale(scheme="tableau10")  # the theme's default starts with two blues that look alike
# Kelly's colours of maximum contrast (white and black left out), strongest first: 12 lines that stay apart on the
# light and the dark theme, where tableau10 repeats its first colour on the 11th comparison
MANY = (
    "#0067a5", "#f38400", "#008856", "#be0032", "#875692", "#882d17",
    "#e68fac", "#848482", "#8db600", "#a1caf1", "#f3c300", "#c2b280",
)  # fmt: skip
EPOCH = alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1, format="d"))  # whole epochs only


def training_curves(history: dict[str, list[float]], metric: str, starts: dict[int, str] | None = None) -> alt.Chart:
    """One metric ("loss" or "accuracy") per epoch, train against validation; a dashed rule before each epoch of
    `starts`, named by its text (where a fine-tune takes over from the model it started from)."""
    rows = [
        {"epoch": epoch, "split": split, metric: value}
        for split, key in (("train", metric), ("validation", f"val_{metric}"))
        for epoch, value in enumerate(history[key], start=1)
    ]
    lines = (
        alt.Chart(pd.DataFrame(rows))
        .mark_line(point=True)
        .encode(
            EPOCH,
            alt.Y(f"{metric}:Q", scale=alt.Scale(zero=False)),
            alt.Color("split:N", scale=DISTINCT, legend=TOP),
            tooltip=["split", "epoch", alt.Tooltip(f"{metric}:Q", format=".4f")],
        )
    )
    if not starts:
        return lines.properties(title=metric.capitalize(), height=HEIGHT)
    marks = alt.Chart(pd.DataFrame([{"epoch": epoch - 0.5, "stage": text} for epoch, text in starts.items()]))
    rule = marks.mark_rule(strokeDash=[4, 4], color="grey").encode(alt.X("epoch:Q"), tooltip=["stage"])
    name = marks.mark_text(align="right", baseline="middle", dx=-4, color="grey").encode(
        alt.X("epoch:Q"), alt.YValue(alt.expr("height / 2")), alt.Text("stage:N")
    )
    return alt.layer(lines, rule, name).properties(title=metric.capitalize(), height=HEIGHT)


def live_curves(trace: list[list[float]], history: dict[str, list[float]], metric: str, epochs: int) -> alt.Chart:
    """A run in progress: the training `metric` as it goes (the epoch's running mean, at fractional epochs from
    `trace` rows [epoch, loss, accuracy]) and the validation `metric` after each finished epoch, on an axis of
    all `epochs`, so that the curve grows across a still chart."""
    column = 1 if metric == "loss" else 2
    rows = [{"epoch": row[0], "split": "train", metric: row[column]} for row in trace]
    rows += [{"epoch": e, "split": "validation", metric: v} for e, v in enumerate(history[f"val_{metric}"], start=1)]
    data = pd.DataFrame(rows, columns=["epoch", "split", metric])
    return (
        alt.Chart(data, title=metric.capitalize())
        .mark_line(point=alt.OverlayMarkDef(size=20))
        .encode(
            alt.X("epoch:Q", title="epoch", scale=alt.Scale(domain=[0, epochs]), axis=alt.Axis(tickMinStep=1)),
            alt.Y(f"{metric}:Q", title=metric, scale=alt.Scale(zero=False)),
            alt.Color("split:N", scale=alt.Scale(domain=["train", "validation"], scheme="tableau10"), legend=TOP),
            tooltip=["split:N", alt.Tooltip("epoch:Q", format=".2f"), alt.Tooltip(f"{metric}:Q", format=".4f")],
        )
        .properties(height=LIVE_HEIGHT)
    )


def live_comparison(progress: dict[str, dict], epochs: int) -> alt.LayerChart:
    """Several runs in progress on one chart: each one's training accuracy as it goes (a thin line, from its `trace`)
    and its validation accuracy after each finished epoch (points joined), in one colour per run, on an axis of
    `epochs`. `progress` maps what the chart calls each run to its progress record (job_process.JobListener)."""
    train = [
        {"run": name, "epoch": row[0], "accuracy": row[2]}
        for name, state in progress.items()
        for row in state.get("trace", [])
    ]
    validation = [
        {"run": name, "epoch": epoch, "accuracy": value}
        for name, state in progress.items()
        for epoch, value in enumerate(state.get("history", {}).get("val_accuracy", []), start=1)
    ]
    colours = alt.Scale(domain=list(progress), range=[MANY[i % len(MANY)] for i in range(len(progress))])
    x = alt.X("epoch:Q", title="epoch", scale=alt.Scale(domain=[0, max(epochs, 1)]), axis=alt.Axis(tickMinStep=1))
    y = alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(zero=False))
    tip = ["run:N", alt.Tooltip("epoch:Q", format=".2f"), alt.Tooltip("accuracy:Q", format=".4f")]
    legend = alt.Legend(orient="right", title=None, labelLimit=0)
    frame = ["run", "epoch", "accuracy"]
    running = (
        alt.Chart(pd.DataFrame(train, columns=frame))
        .mark_line(strokeWidth=1, opacity=0.45)
        .encode(x, y, alt.Color("run:N", scale=colours, legend=legend), tooltip=tip)
    )
    checked = (
        alt.Chart(pd.DataFrame(validation, columns=frame))
        .mark_line(point=alt.OverlayMarkDef(size=40), strokeWidth=2.5)
        .encode(x, y, alt.Color("run:N", scale=colours, legend=legend), tooltip=tip)
    )
    title = "Accuracy: training as it goes (thin), validation after each epoch (points)"
    return alt.layer(running, checked).properties(title=title, height=LIVE_HEIGHT)


def confusion_matrix(matrix: list[list[int]] | np.ndarray, title: str) -> alt.LayerChart:
    """Counts of each true digit (down) read as each digit (across), every count written in its cell.

    The colour scale tops out at twice the largest error, so mistakes stand out instead of the diagonal.
    """
    matrix = np.asarray(matrix, dtype=int)
    digits = range(len(matrix))
    cells = pd.DataFrame([{"true digit": t, "read as": r, "digits": int(matrix[t, r])} for t in digits for r in digits])
    errors = matrix[~np.eye(len(matrix), dtype=bool)]
    top = max(2 * int(errors.max(initial=0)), 1)
    base = alt.Chart(cells, title=title).encode(
        alt.X("read as:O", axis=alt.Axis(labelAngle=0, orient="top")),
        alt.Y("true digit:O"),
    )
    squares = base.mark_rect().encode(
        alt.Color("digits:Q", scale=alt.Scale(scheme="blues", domain=[0, top], clamp=True), legend=None),
        tooltip=["true digit", "read as", "digits"],
    )
    counts = base.mark_text(fontSize=11).encode(
        alt.Text("digits:Q"),
        color=alt.condition(alt.datum.digits > top / 2, alt.value("white"), alt.value("black")),
    )
    return (squares + counts).properties(height=HEIGHT + 40)


def reliability_diagram(curves: dict[str, dict]) -> alt.LayerChart:
    """Accuracy against confidence per bin (calibration.reliability), one line per curve, over the honest diagonal.

    Points above the diagonal: the model was right more often than it claimed; below: over-confident.
    """
    rows = [
        {"curve": f"{name} (ECE {curve['ece']:.3f})", "confidence": c, "accuracy": a, "drawings": n}
        for name, curve in curves.items()
        for c, a, n in zip(curve["confidence"], curve["accuracy"], curve["count"], strict=True)
        if c is not None
    ]
    unit = alt.Scale(domain=[0, 1])
    honest = (
        alt.Chart(pd.DataFrame({"confidence": [0.0, 1.0], "accuracy": [0.0, 1.0]}))
        .mark_line(strokeDash=[4, 4], color="grey")
        .encode(alt.X("confidence:Q", scale=unit), alt.Y("accuracy:Q", scale=unit))
    )
    lines = (
        alt.Chart(pd.DataFrame(rows))
        .mark_line(point=True)
        .encode(
            alt.X("confidence:Q", scale=unit, title="confidence (top probability)"),
            alt.Y("accuracy:Q", scale=unit),
            alt.Color("curve:N", scale=DISTINCT, legend=TOP),
            tooltip=["curve", *(alt.Tooltip(f"{f}:Q", format=".3f") for f in ("confidence", "accuracy")), "drawings"],
        )
    )
    return (honest + lines).properties(title="Reliability on drawn digits", height=HEIGHT + 60)


def comparison_curves(
    histories: dict[str, dict[str, list[float]]], losses: dict[str, str], shown: list[str] | None = None
) -> list[alt.Chart]:
    """Several models' validation accuracy on one chart, with the legend, then their validation losses, one chart
    per kind of loss, in the same colours.

    `histories` and `losses` are keyed by what the chart calls each model; `shown` picks the lines drawn (default:
    all), and each model keeps its colour whichever are shown. Cross-entropies of different kinds (categorical,
    binary) are not on one scale, so they never share an axis.
    """
    shown = list(histories) if shown is None else shown
    rows = pd.DataFrame(
        [
            {"model": name, "epoch": epoch, "loss kind": losses[name], "accuracy": accuracy, "loss": loss}
            for name in shown
            for epoch, (accuracy, loss) in enumerate(
                zip(histories[name]["val_accuracy"], histories[name]["val_loss"], strict=True), 1
            )
        ],
        columns=["model", "epoch", "loss kind", "accuracy", "loss"],
    )
    colour_of = {name: MANY[i % len(MANY)] for i, name in enumerate(histories)}  # the same, whichever are shown
    colours = alt.Scale(domain=shown, range=[colour_of[name] for name in shown])  # the legend lists those shown

    def chart(data: pd.DataFrame, field: str, title: str, legend: alt.Legend | None = None) -> alt.Chart:
        return (
            alt.Chart(data, title=title)
            .mark_line()
            .encode(
                EPOCH,
                alt.Y(f"{field}:Q", title=f"validation {field}", scale=alt.Scale(zero=False)),
                alt.Color("model:N", scale=colours, legend=legend),
                tooltip=["model", "epoch", alt.Tooltip(f"{field}:Q", format=".4f")],
            )
            .properties(height=HEIGHT)
        )

    kinds = sorted({losses[name] for name in shown})
    legend = alt.Legend(orient="right", title=None, labelLimit=0)  # full names: the accuracy chart is page-wide
    return [chart(rows, "accuracy", "Validation accuracy", legend)] + [
        chart(rows[rows["loss kind"] == kind], "loss", kind.replace("_", " ").capitalize()) for kind in kinds
    ]


def mistake_captions(gallery: dict[str, np.ndarray], count: int) -> list[str]:
    """'true→read (confidence)' for the first `count` wrongly read digits."""
    return [f"{gallery['true'][i]}→{gallery['predicted'][i]} ({gallery['confidence'][i]:.0%})" for i in range(count)]


def mistakes_sheet(gallery: dict[str, np.ndarray], limit: int = 32, columns: int = 8, zoom: int = 3) -> np.ndarray:
    """The first `limit` wrongly read digits on one white sheet (uint8), each enlarged `zoom` times in whole
    pixels and captioned underneath (mistake_captions).

    One picture, not one per digit: the browser fetches and lays out one image, so a model switch stays quick.
    """
    count = min(limit, len(gallery["images"]))
    side, caption, gap = 28 * zoom, 18, 8  # pixels: a digit, its caption's line, the space between digits
    cell_w, cell_h = side + gap, side + caption + gap
    rows = max(1, -(-count // columns))
    sheet = Image.new("L", (columns * cell_w, rows * cell_h), 255)
    pen, font = ImageDraw.Draw(sheet), ImageFont.truetype(_caption_font(), 12)
    for i, text in enumerate(mistake_captions(gallery, count)):
        left, top = (i % columns) * cell_w, (i // columns) * cell_h
        digit = np.kron(gallery["images"][i], np.ones((zoom, zoom), dtype=np.uint8))
        sheet.paste(Image.fromarray(digit), (left, top))
        pen.text((left + side // 2, top + side + caption // 2), text, font=font, anchor="mm", fill=0)
    return np.asarray(sheet)


def _caption_font() -> str:
    """matplotlib's DejaVu Sans, which has the arrow (imported here: the pages that never draw a sheet skip it)."""
    import matplotlib

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
