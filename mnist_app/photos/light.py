"""The paper's light evened out: how much darker than the paper under it each pixel of a photo is.

A photo's grey is each pixel's brightest channel, so light-coloured rules stay near the paper's white and ink stays
dark; the paper's own light (its slopes, a shadow) is estimated by a closing far wider than any stroke and divides it
out. What is darker than the paper by WEAK may be ink (or a rule); by STRONG, it surely is ink.
"""

from __future__ import annotations

import cv2
import numpy as np

WEAK, STRONG = 0.12, 0.30  # darkness over the paper: faint ink (and rules) from WEAK, surely ink from STRONG
PAPER_CLOSE = 0.1  # the paper's light is found by a closing this wide (share of the longer side): wider than ink


def grey_of(photo: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 -> (H, W) uint8: each pixel's brightest channel (HSV's value), not its luminance.

    The paper's rules and squares are printed in light colours (blue, grey, a red margin) and ink is dark: the
    brightest channel keeps a light blue or red rule nearly as light as the paper, so a stroke written along it is not
    taken away with it, while black ink and pencil stay as dark as in luminance (blue ink is lighter, still ink).
    """
    return photo if photo.ndim == 2 else np.max(photo, axis=2)


def darkness(grey: np.ndarray) -> np.ndarray:
    """How much darker than the paper under it each pixel is: (H, W) float32, 0 = paper, 1 = black.

    The paper's light is estimated on a quarter-size copy by a closing (a maximum then a minimum filter) as wide as
    PAPER_CLOSE of the photo's longer side, far wider than any stroke (MNIST's bold digits on a close-up included), so
    it takes the ink away whole while keeping the light's slow slopes and shadow edges (a closing keeps a monotone
    ramp); smoothed by a median, it divides the photo.
    """
    h, w = grey.shape
    small = cv2.resize(grey, (max(w // 4, 1), max(h // 4, 1)), interpolation=cv2.INTER_AREA)
    side = max(5, int(PAPER_CLOSE * max(h, w) / 4) | 1)
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    back = cv2.resize(cv2.medianBlur(closed, 5), (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    return np.clip(1.0 - grey.astype(np.float32) / np.maximum(back, 1.0), 0.0, 1.0)
