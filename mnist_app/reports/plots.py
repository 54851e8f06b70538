"""Pictures for the pages: the enlarged digit and the explanations, as plain uint8 arrays for st.image; thumbnails.

Arrays, not matplotlib figures: with three figures laid out and saved, opening an explanation took 0.7-1.0 s (median,
in Chromium); colouring three 28x28 maps takes a few milliseconds. Every explanation panel has the same size, PANEL
pixels square, so that they line up side by side. The other pages' charts are in charts.py.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

SCALE = 8  # each of the 28x28 pixels drawn 8x8: big enough to see each one, as "What the model sees" shows them
PANEL = 28 * SCALE
EVIDENCE_COLOURS = "RdBu_r"  # diverging: red is evidence for the digit, blue against it, white nothing
HEAT_COLOURS = "inferno"  # where a network's features fire, dark to bright
DIM = 0.5  # the digit's ink at half brightness under a map: the map's colours stand out on it


def enlarge(digit: np.ndarray, factor: int = SCALE) -> np.ndarray:
    """A 28x28 digit in [0, 1] as an enlarged uint8 image with a faint grid, so each pixel is visible."""
    big = np.kron(np.clip(digit, 0, 1), np.ones((factor, factor)))
    big[::factor, :] = np.maximum(big[::factor, :], 0.15)
    big[:, ::factor] = np.maximum(big[:, ::factor], 0.15)
    return (big * 255).astype(np.uint8)


SEEN = "What the model sees: 28x28, centred as MNIST"


def reading_figure(probs, chosen: int, digit: np.ndarray) -> str:
    """A reading as one piece of markup: its probability bars beside the digit as the model sees it (enlarged, a
    data: URI). The Draw page sends it on every stroke as one element, where a chart and a picture in two columns
    were four: the browser lays out each element it is sent before the reading shows (about 10 ms less a stroke,
    issue 36). Side by side where there is room, the picture under the bars on a phone."""
    picture = thumbnail_uri(enlarge(digit), PANEL)
    return (
        '<div style="display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start">'
        f'<div style="flex:3 1 240px">{probability_bars(probs, chosen)}</div>'
        f'<figure style="flex:2 1 150px;margin:0"><img src="{picture}" alt="{SEEN}" '
        'style="width:100%;display:block;object-fit:contain">'
        f'<figcaption style="font-size:0.875rem;opacity:0.6;padding-top:0.25rem">{SEEN}</figcaption></figure></div>'
    )


def thumbnail_uri(picture: bytes | np.ndarray, size: int) -> str:
    """A picture (PNG bytes, or a uint8 array) shrunk to `size` pixels wide as a data: URI, which a markdown image
    shows with no file for the browser to fetch."""
    image = Image.open(io.BytesIO(picture)) if isinstance(picture, bytes) else Image.fromarray(picture)
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def evidence_panel(image: np.ndarray, evidence: np.ndarray) -> np.ndarray:
    """A (28, 28) digit in [0, 1], dimmed, with a signed (28, 28) map over it: (PANEL, PANEL, 3) uint8.

    Red where the map is positive, blue where negative; opaque where the map is strong, so that pixels which carry no
    evidence leave the digit visible.
    """
    limit = float(np.abs(evidence).max()) or 1.0
    strength = np.clip(2 * np.abs(evidence) / limit, 0.0, 1.0)[..., None]
    return _rgb(_dimmed(image) * (1 - strength) + _signed(evidence) * strength)


def focus_panel(image: np.ndarray, panels: list) -> np.ndarray:
    """What a network looks at (an explain.Panel list) as one (PANEL, PANEL, 3) uint8 picture: one panel, or up to
    16 tiled left to right, top to bottom. Signed maps (a unit's weights) in diverging colours; heat maps (Grad-CAM)
    laid over the dimmed digit."""
    side = next(n for n in (1, 2, 4) if len(panels) <= n * n)  # 28 * SCALE divides evenly into 1, 2 or 4 tiles
    tiles = [_signed(p.image) if p.signed else _heat_over(image, p.image) for p in panels[: side * side]]
    tiles += [np.ones((28, 28, 3))] * (side * side - len(tiles))
    grid = np.concatenate([np.concatenate(tiles[r * side : (r + 1) * side], axis=1) for r in range(side)], axis=0)
    picture = _rgb(grid, SCALE // side)
    for k in range(1, side):  # white lines between the tiles
        picture[k * PANEL // side - 1 : k * PANEL // side + 1, :] = 255
        picture[:, k * PANEL // side - 1 : k * PANEL // side + 1] = 255
    return picture


def _dimmed(image: np.ndarray) -> np.ndarray:
    return np.repeat(DIM * np.clip(image, 0.0, 1.0)[..., None], 3, axis=2)


def _colours(name: str, values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> (..., 3) colours of a matplotlib colour map."""
    from matplotlib import colormaps  # here, not at the top: the Drawings page enlarges digits and never colours one

    return colormaps[name](values)[..., :3]


def _signed(values: np.ndarray) -> np.ndarray:
    """(28, 28) signed values -> (28, 28, 3) colours in [0, 1], symmetric around 0."""
    limit = float(np.abs(values).max()) or 1.0
    return _colours(EVIDENCE_COLOURS, (values / limit + 1) / 2)


def _heat_over(image: np.ndarray, heat: np.ndarray) -> np.ndarray:
    return 0.4 * _dimmed(image) + 0.6 * _colours(HEAT_COLOURS, np.clip(heat, 0.0, 1.0))


def _rgb(colours: np.ndarray, factor: int = SCALE) -> np.ndarray:
    """(h, w, 3) colours in [0, 1] -> uint8, each pixel a factor x factor square."""
    big = np.repeat(np.repeat(colours, factor, axis=0), factor, axis=1)
    return np.round(np.clip(big, 0.0, 1.0) * 255).astype(np.uint8)


SURE_BOX, UNSURE_BOX, MARK_BOX = (46, 204, 113), (243, 156, 18), (149, 165, 166)  # green, amber, grey


def boxed(image: np.ndarray, digits: list[tuple[tuple[int, int, int, int], bool]], marks: list) -> np.ndarray:
    """A canvas (H, W, 4) RGBA uint8 as (H, W, 3) RGB with a box around each digit read (green when sure, amber
    when not), numbered in the order read, and a grey box around each mark that is no digit."""
    picture = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    pen = ImageDraw.Draw(picture)
    for order, ((x0, y0, x1, y1), sure) in enumerate(digits, 1):
        pen.rectangle((x0, y0, x1 - 1, y1 - 1), outline=SURE_BOX if sure else UNSURE_BOX, width=3)
        pen.text((x0 + 4, y0 + 2), str(order), fill=SURE_BOX if sure else UNSURE_BOX)
    for x0, y0, x1, y1 in marks:
        pen.rectangle((x0, y0, x1 - 1, y1 - 1), outline=MARK_BOX, width=2)
    return np.asarray(picture)


def probability_bars(probs, chosen: int | None = None, width: int = 360, height: int = 200) -> str:
    """The ten probabilities of one reading as an inline SVG bar chart (a string): the bar of `chosen` (the digit
    read) stands out, each bar says its digit under it and its percentage on hover, and a screen reader hears them
    all. Drawn on every stroke, so it is a few hundred bytes of markup the browser lays out at once, where a
    Vega-Lite chart cost 40 ms of script per stroke."""
    probs = np.clip(np.asarray(probs, dtype=float), 0.0, 1.0)
    top, bottom, slot = 16, 20, width / len(probs)
    plot = height - top - bottom
    said = ", ".join(f"{d}: {p:.0%}" for d, p in enumerate(probs))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="Probability of each digit. {said}" style="max-width:{width}px;font:12px sans-serif">'
    ]
    for digit, p in enumerate(probs):
        x, h = digit * slot + slot * 0.15, max(p * plot, 0.5)
        colour = "#ff4b4b" if digit == chosen else "#83c9ff"
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
            f"<title>{digit}: {p:.1%}</title></rect>"
            f'<text x="{digit * slot + slot / 2:.1f}" y="{height - 5}" text-anchor="middle" fill="currentColor">'
            f"{digit}</text>"
        )
        if p >= 0.05:  # the likely digits say their probability above their bar
            parts.append(
                f'<text x="{digit * slot + slot / 2:.1f}" y="{top + plot - h - 3:.1f}" text-anchor="middle" '
                f'fill="currentColor">{p:.0%}</text>'
            )
    parts.append(f'<line x1="0" x2="{width}" y1="{top + plot}" y2="{top + plot}" stroke="currentColor" opacity="0.3"/>')
    return "".join(parts) + "</svg>"
