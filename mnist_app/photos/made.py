"""Photos of digits written on paper, made from pen strokes (or MNIST digits), for measuring and tests.

One scene per photo, each choice seeded: a sheet of plain, squared or ruled paper; the digits written on it in thin
black or blue pen or pencil (pen strokes of one writer, at one height, with the numbers issue's gaps: a share
touching); the sheet turned a few degrees and seen slightly askew, the desk showing at the edges; uneven light and
a soft shadow; blurred, a little noise, saved as JPEG at a phone's size (640x480 to 4000x3000). A blank page is
the same scene with nothing written. benchmarks/paper.py makes its cases here; tests/data holds a few.
"""

from __future__ import annotations

import cv2
import numpy as np

from mnist_app.data import pendigits

SIZES = ((640, 480), (1280, 960), (1600, 1200), (2592, 1944), (4000, 3000))  # (width, height): phone photos
PAPERS = ("plain", "squared", "ruled")
INKS = {  # RGB in [0, 1], how much it covers (pencil lets the paper through)
    "black": ((0.08, 0.08, 0.1), 0.95),
    "blue": ((0.1, 0.17, 0.55), 0.92),
    "pencil": ((0.3, 0.3, 0.33), 0.7),
}
RULE_COLOURS = ((0.55, 0.7, 0.95), (0.6, 0.6, 0.65), (0.5, 0.75, 0.9))
DESKS = ((0.35, 0.22, 0.12), (0.2, 0.2, 0.22), (0.55, 0.5, 0.45), (0.75, 0.72, 0.7))
TOUCHING = 0.1  # share of gaps between digits that touch or overlap, as the numbers benchmark has them


def gap(height: float, rng: np.random.Generator) -> float:
    """Blank between neighbours' ink, in pixels: a share TOUCHING overlap by up to 12% of the height."""
    return height * (rng.uniform(-0.12, 0.0) if rng.random() < TOUCHING else rng.uniform(0.04, 0.45))


def ink_of_pen(digits: list[pendigits.PenDigit], rng: np.random.Generator, height: float, width: int, size: tuple):
    """The digits' strokes as an (H, W) float32 alpha, `width` px strokes, on a `size` (w, h) sheet, placed at
    random: the number's box in the sheet's pixels too."""
    w, h = size
    left, middle, strokes = 0.0, 0.0, []
    for index, digit in enumerate(digits):
        own = height * rng.uniform(0.9, 1.1)
        middle += rng.normal(0, 0.04 * height)
        left += width + gap(height, rng) if index else 0.0
        drawn = pendigits.placed(digit, own, left, middle)
        left = max(s[:, 0].max() for s in drawn)
        strokes.extend(drawn)
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    room = np.array([w, h]) - (high - low) - 4 * width
    shift = rng.uniform(0.15, 0.85, size=2) * np.clip(room, 0, None) + 2 * width - low
    alpha = np.zeros((h, w), dtype=np.uint8)
    for stroke in strokes:
        xy = np.round((stroke + shift) * 16).astype(np.int32)
        cv2.polylines(alpha, [xy], False, 255, max(int(round(width)), 1), cv2.LINE_AA, shift=4)
    box = (*(low + shift).astype(int), *(high + shift).astype(int))
    return alpha.astype(np.float32) / 255.0, box


def ink_of_mnist(digit: np.ndarray, rng: np.random.Generator, height: float, size: tuple) -> np.ndarray:
    """An MNIST digit (28, 28) uint8 grown so its 20-px box is `height` px, placed at random: (H, W) alpha."""
    w, h = size
    side = max(int(round(height * 28 / 20)), 28)
    grown = np.clip(cv2.resize(digit.astype(np.float32) / 255.0, (side, side), interpolation=cv2.INTER_CUBIC), 0, 1)
    alpha = np.zeros((h, w), dtype=np.float32)
    x, y = (rng.uniform(0.15, 0.85) * (w - side)), (rng.uniform(0.15, 0.85) * (h - side))
    alpha[int(y) : int(y) + side, int(x) : int(x) + side] = grown
    return alpha


def sheet(rng: np.random.Generator, size: tuple, paper: str, spacing: float) -> np.ndarray:
    """Paper (H, W, 3) float32: a tint, and rules or squares `spacing` px apart in a light colour."""
    w, h = size
    tint = np.array([1.0, rng.uniform(0.96, 1.0), rng.uniform(0.9, 1.0)]) * rng.uniform(0.9, 1.0)
    page = np.ones((h, w, 3), dtype=np.float32) * tint.astype(np.float32)
    if paper == "plain":
        return page
    colour = tuple(float(c) for c in RULE_COLOURS[rng.integers(len(RULE_COLOURS))])
    thick = max(1, int(round(spacing / 25)))
    phase = rng.uniform(0, spacing, size=2)
    for y in np.arange(phase[1], h, spacing):
        cv2.line(page, (0, int(y)), (w, int(y)), colour, thick, cv2.LINE_AA)
    if paper == "squared":
        for x in np.arange(phase[0], w, spacing):
            cv2.line(page, (int(x), 0), (int(x), h), colour, thick, cv2.LINE_AA)
    else:
        margin = rng.uniform(0.05, 0.15) * w
        cv2.line(page, (int(margin), 0), (int(margin), h), (0.9, 0.4, 0.4), thick, cv2.LINE_AA)
    return page


def photographed(page: np.ndarray, rng: np.random.Generator, quality: int | None = None) -> np.ndarray:
    """The sheet photographed: turned and askew on a desk, uneven light, a soft shadow, blur, noise, JPEG."""
    h, w = page.shape[:2]
    inset = rng.uniform(0.0, 0.07, size=4) * np.array([w, h, w, h])
    corners = np.array(
        [[inset[0], inset[1]], [w - inset[2], inset[1]], [w - inset[2], h - inset[3]], [inset[0], h - inset[3]]]
    )
    corners += rng.normal(0, 0.012, size=(4, 2)) * np.array([w, h])  # seen a little askew
    angle = np.radians(rng.uniform(-4, 4))
    centre = corners.mean(axis=0)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = (corners - centre) @ turn.T + centre
    source = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    warp = cv2.getPerspectiveTransform(source, corners.astype(np.float32))
    desk = np.array(DESKS[rng.integers(len(DESKS))], dtype=np.float32)
    scene = cv2.warpPerspective(
        page,
        warp,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=tuple(float(c) for c in desk),
    )
    sh, sw = max(h // 8, 2), max(w // 8, 2)  # the light varies slowly: worked out on an eighth, then grown
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32) * 8
    gx, gy = rng.uniform(-0.35, 0.35, size=2)
    light = 1.0 + gx * (xx / w - 0.5) + gy * (yy / h - 0.5)
    light *= rng.uniform(0.7, 1.05)
    if rng.random() < 0.6:  # a soft shadow over part of the page: a hand's or the phone's
        nx, ny = np.cos(a := rng.uniform(0, 2 * np.pi)), np.sin(a)
        edge = (xx - w / 2) * nx + (yy - h / 2) * ny - rng.uniform(-0.3, 0.3) * max(w, h)
        soft = rng.uniform(0.03, 0.1) * max(w, h)
        light *= 1.0 - rng.uniform(0.2, 0.45) * (1.0 / (1.0 + np.exp(-edge / soft)))
    light = cv2.resize(light.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    scene = cv2.multiply(scene, cv2.merge([light, light, light]))
    sigma = rng.uniform(0.3, 1.2) * w / 1280
    scene = cv2.GaussianBlur(scene, (0, 0), sigma)
    noise = np.empty_like(scene)
    cv2.setRNGSeed(int(rng.integers(2**31)))
    cv2.randn(noise, 0.0, float(rng.uniform(0.005, 0.015)))
    rgb = cv2.convertScaleAbs(cv2.add(scene, noise), alpha=255.0)  # saturated to 0..255
    quality = int(rng.integers(60, 96)) if quality is None else quality
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return jpeg.tobytes()


def decoded(jpeg: bytes) -> np.ndarray:
    """JPEG bytes -> (H, W, 3) uint8 RGB."""
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def scene(rng: np.random.Generator, height_share: tuple[float, float], size=None) -> dict:
    """The choices of one photo: its size, paper, ink, the digits' height in px and the rules' spacing."""
    size = SIZES[rng.integers(len(SIZES))] if size is None else size
    height = rng.uniform(*height_share) * size[1]
    return {
        "size": size,
        "paper": PAPERS[rng.integers(len(PAPERS))],
        "ink": list(INKS)[rng.integers(len(INKS))],
        "height": height,
        "spacing": height / rng.uniform(1.2, 2.2),
    }


def pen_photo(digits: list[pendigits.PenDigit], rng: np.random.Generator, size=None) -> tuple[bytes, dict]:
    """A photo (JPEG bytes) of these pen digits written as one number on paper, and the scene's choices."""
    room = min(0.22, 0.75 * 4 / 3 / (0.75 * len(digits)))  # the number fits the page's width
    choice = scene(rng, (0.08, room), size)
    colour, cover = INKS[choice["ink"]]
    width = choice["height"] * rng.uniform(0.025, 0.06)
    alpha, box = ink_of_pen(digits, rng, choice["height"], width, choice["size"])
    return photographed(_written(rng, choice, alpha, colour, cover), rng), {**choice, "width": width, "box": box}


def writer_photo(own: list[pendigits.PenDigit], key: tuple[int, ...], length: int) -> tuple[bytes, dict, str]:
    """A photo of `length` of one writer's pen digits (`own`), which and how drawn chosen by the seed `key` (the paper
    benchmark's (seed, writer, photo)), its scene's choices, and the number written on it."""
    rng = np.random.default_rng(key)
    chosen = [own[i] for i in rng.choice(len(own), length, replace=False)]
    jpeg, choice = pen_photo(chosen, rng)
    return jpeg, choice, "".join(str(d.label) for d in chosen)


def mnist_photo(digit: np.ndarray, rng: np.random.Generator, size=None) -> tuple[bytes, dict]:
    """A photo of an MNIST digit written on paper in its own stroke, and the scene's choices."""
    choice = scene(rng, (0.12, 0.3), size)
    colour, cover = INKS[choice["ink"]]
    alpha = ink_of_mnist(digit, rng, choice["height"], choice["size"])
    return photographed(_written(rng, choice, alpha, colour, cover), rng), choice


def blank_photo(rng: np.random.Generator, size=None) -> tuple[bytes, dict]:
    """A photo of a blank sheet (plain, squared or ruled)."""
    choice = scene(rng, (0.08, 0.22), size)
    return photographed(sheet(rng, choice["size"], choice["paper"], choice["spacing"]), rng), choice


def _written(rng, choice: dict, alpha: np.ndarray, colour, cover: float) -> np.ndarray:
    page = sheet(rng, choice["size"], choice["paper"], choice["spacing"])
    if choice["ink"] == "pencil":  # graphite's grain: the paper shows through in places
        alpha = alpha * np.clip(rng.normal(1.0, 0.2, size=alpha.shape), 0.3, 1.0).astype(np.float32)
    a = (alpha * cover)[..., None]
    return page * (1 - a) + np.array(colour, dtype=np.float32) * a
