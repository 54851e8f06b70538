"""Canvas drawing -> MNIST digit, following MNIST's own recipe.

MNIST's digits were cropped to their ink, scaled (keeping the aspect ratio, anti-aliased)
to fit a 20x20 box, then placed in a 28x28 field so that their centre of mass sits at the
centre. A drawing must go through the same steps, or the model sees something it never
saw in training.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

FIELD = 28  # MNIST's image side
BOX = 20  # the side of the box MNIST's digits were scaled into
CENTRE = 14.0  # mean centre of mass of MNIST's digits, in pixel indices (measured: 14.00, 14.00)
INK_THRESHOLD = 0.1  # ink below this (of full strength) is anti-aliasing noise, not a stroke
MAX_SIDE = 4096  # larger inputs are refused rather than resized at great cost


class EmptyCanvasError(ValueError):
    """Nothing is drawn: the canvas has no ink to read."""


def canvas_to_mnist(image: np.ndarray) -> np.ndarray:
    """Drawing -> (28, 28) float32 in [0, 1], white digit on black, centred as MNIST was.

    `image` is what st_canvas returns, (H, W, 4) uint8 RGBA in any colour scheme (white on
    black, black on white, ink only in alpha on a transparent background), or (H, W) grey,
    or (H, W, 3) RGB; uint8 0..255 or float 0..1. Raises EmptyCanvasError when nothing is
    drawn and ValueError for unusable input.
    """
    return normalise(ink_map(image))


def normalise(ink: np.ndarray) -> np.ndarray:
    """Ink strength (H, W) in [0, 1] -> (28, 28) float32: cropped, fitted into 20x20 and centred by mass, as MNIST.

    The one place this recipe lives: training distortions and redrawn styles re-fit their digits through it too.
    Raises EmptyCanvasError when there is no ink.
    """
    return centre_by_mass(fit_to_box(crop_to_ink(ink), BOX), FIELD)


def ink_map(image: np.ndarray) -> np.ndarray:
    """Any supported image -> (H, W) float32 ink strength in [0, 1] (1 = full ink)."""
    pixels = _as_unit_float(image)
    if pixels.ndim == 3 and pixels.shape[2] == 4 and np.median(pixels[..., 3]) < 0.5:
        return pixels[..., 3]  # transparent background: the ink is the alpha channel
    grey = _luminance(pixels)
    background = float(np.median(grey))
    # distance from the background, so white-on-black and black-on-white read alike
    ink = np.abs(grey - background) / max(background, 1.0 - background, 1e-6)
    return np.clip(ink, 0.0, 1.0).astype(np.float32)


def _as_unit_float(image: np.ndarray) -> np.ndarray:
    """Validate shape and values; return float32 in [0, 1] with the same shape."""
    if image is None:
        raise ValueError("no image: expected an (H, W), (H, W, 3) or (H, W, 4) array, got None")
    array = np.asarray(image)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"image must hold numbers, got dtype {array.dtype}")
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ValueError(f"image must be (H, W), (H, W, 3) or (H, W, 4), got shape {array.shape}")
    if min(array.shape[:2]) < 1 or max(array.shape[:2]) > MAX_SIDE:
        raise ValueError(f"image sides must be between 1 and {MAX_SIDE} pixels, got {array.shape[:2]}")
    pixels = array.astype(np.float32)
    if not np.all(np.isfinite(pixels)):
        raise ValueError("image contains NaN or infinite values")
    if np.issubdtype(array.dtype, np.integer) or pixels.max() > 1.0:
        pixels /= 255.0  # 0..255 data, integer or float
    if pixels.min() < 0.0 or pixels.max() > 1.0:
        raise ValueError(f"pixel values must lie in 0..1 or 0..255, got {pixels.min()}..{pixels.max() * 255}")
    return pixels[..., 0] if pixels.ndim == 3 and pixels.shape[2] == 1 else pixels


def _luminance(pixels: np.ndarray) -> np.ndarray:
    """Grey level of grey, RGB or RGBA pixels (RGBA: weighted by its alpha, as if over black)."""
    if pixels.ndim == 2:
        return pixels
    rgb = pixels[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return rgb * pixels[..., 3] if pixels.shape[2] == 4 else rgb


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """Cut the ink map down to the bounding box of its strokes; EmptyCanvasError if none."""
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        raise EmptyCanvasError("the canvas is empty: draw a digit first")
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def fit_to_box(ink: np.ndarray, box: int = BOX) -> np.ndarray:
    """Scale so the longer side is `box` pixels, keeping the aspect ratio, anti-aliased.

    Returns float32 in [0, 1] with its brightest pixel at 1, as MNIST's strokes are.
    """
    height, width = ink.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # LANCZOS filters over the whole source footprint when shrinking: real anti-aliasing
    scaled = np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(size, Image.Resampling.LANCZOS))
    scaled = np.clip(scaled, 0.0, None)
    peak = scaled.max()
    return (scaled / peak if peak > 0 else scaled).astype(np.float32)


def centre_by_mass(digit: np.ndarray, field: int = FIELD) -> np.ndarray:
    """Paste `digit` into a field x field black image with its centre of mass at CENTRE.

    The shift is whole pixels, as in MNIST, and clamped so that no ink falls off the edge.
    """
    height, width = digit.shape
    com_row, com_col = centre_of_mass(digit)
    top = int(np.clip(round(CENTRE - com_row), 0, field - height))
    left = int(np.clip(round(CENTRE - com_col), 0, field - width))
    out = np.zeros((field, field), dtype=np.float32)
    out[top : top + height, left : left + width] = digit
    return out


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, col) centre of mass of a 2-D image, in pixel indices."""
    rows, cols = np.indices(image.shape)
    mass = image.sum()
    return float((rows * image).sum() / mass), float((cols * image).sum() / mass)
