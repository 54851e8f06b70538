"""OpenCV or scikit-image for the photo steps (issue 39)? Each step timed on a 12-megapixel (4000x3000) photo.

The steps a photo of digits on paper goes through: to grey, the background (shrunk, closed, grown back) and the
division by it, an adaptive threshold, the paper's rules found by opening along lines, connected pieces with their
boxes, a rotation (deskew), a dilation (thickening thin strokes) and a distance transform (stroke width). The
median of `--repeat` runs per step, one thread each way (cv2.setNumThreads(1)) and with the library's default.
Installed sizes are measured from the installed packages' folders.

    python benchmarks/photo_libraries.py            # whichever of the two is installed (the app needs OpenCV only)
    python benchmarks/photo_libraries.py --json benchmarks/results/photo_libraries.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import time
from pathlib import Path

import numpy as np


def photo(seed: int = 0) -> np.ndarray:
    """A 4000x3000 RGB page: light falling off across it, squared rules, a few dark strokes, noise."""
    rng = np.random.default_rng(seed)
    h, w = 3000, 4000
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 200 + 40 * np.cos(xx / w * 2) * np.cos(yy / h * 1.5)
    page = np.repeat(light[..., None], 3, axis=2)
    page[::80, :, :2] -= 50
    page[:, ::80, :2] -= 50
    for _ in range(30):
        x, y = rng.integers(200, w - 400), rng.integers(200, h - 400)
        page[y : y + 300, x : x + 8] = 40
        page[y : y + 8, x : x + 200] = 40
    page += rng.normal(0, 4, page.shape).astype(np.float32)
    return np.clip(page, 0, 255).astype(np.uint8)


def timed(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def opencv_steps(rgb: np.ndarray) -> dict:
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    small = cv2.resize(grey, (w // 8, h // 8), interpolation=cv2.INTER_AREA)
    binary = (grey < 128).astype(np.uint8)
    line = cv2.getStructuringElement(cv2.MORPH_RECT, (w // 40, 1))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), 3.0, 1.0)

    def background():
        closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
        back = cv2.resize(cv2.medianBlur(closed, 9), (w, h), interpolation=cv2.INTER_LINEAR)
        return cv2.divide(grey, back, scale=255)

    return {
        "to grey": lambda: cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY),
        "background and division": background,
        "adaptive threshold": lambda: cv2.adaptiveThreshold(
            grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 51, 15
        ),
        "rules: opening along lines": lambda: cv2.morphologyEx(binary, cv2.MORPH_OPEN, line),
        "connected pieces and boxes": lambda: cv2.connectedComponentsWithStats(binary, connectivity=8),
        "rotation (deskew)": lambda: cv2.warpAffine(grey, turn, (w, h), flags=cv2.INTER_LINEAR, borderValue=255),
        "dilation (thicken)": lambda: cv2.dilate(binary, disk),
        "distance transform": lambda: cv2.distanceTransform(binary, cv2.DIST_L2, 5),
    }


def skimage_steps(rgb: np.ndarray) -> dict:
    from scipy import ndimage
    from skimage import color, filters, measure, morphology, transform

    grey = (color.rgb2gray(rgb) * 255).astype(np.uint8)
    h, w = grey.shape
    small = transform.downscale_local_mean(grey, (8, 8))
    binary = grey < 128
    line = np.ones((1, w // 40), dtype=bool)
    disk = morphology.disk(3)

    def background():
        closed = morphology.closing(small, np.ones((9, 9), dtype=bool))
        back = transform.resize(filters.median(closed, np.ones((9, 9))), (h, w), order=1)
        return np.clip(grey / np.maximum(back, 1) * 255, 0, 255).astype(np.uint8)

    return {
        "to grey": lambda: color.rgb2gray(rgb),
        "background and division": background,
        "adaptive threshold": lambda: grey < filters.threshold_local(grey, 51, method="mean", offset=15),
        "rules: opening along lines": lambda: morphology.opening(binary, line),
        "connected pieces and boxes": lambda: measure.regionprops(measure.label(binary, connectivity=2)),
        "rotation (deskew)": lambda: transform.rotate(grey, 3.0, order=1, cval=1.0),
        "dilation (thicken)": lambda: morphology.dilation(binary, disk),
        "distance transform": lambda: ndimage.distance_transform_edt(binary),
    }


def installed_mb(*packages: str) -> float:
    """Megabytes on disk of the installed packages' folders (and their .libs beside them)."""
    total = 0
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = Path(next(iter(spec.submodule_search_locations)))
        for path in [folder, *folder.parent.glob(f"{folder.name.replace('cv2', 'opencv_python_headless')}*.libs")]:
            total += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return round(total / 1e6, 1)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rgb = photo()
    out = {}
    if importlib.util.find_spec("cv2"):
        import cv2

        for threads in (1, cv2.getNumThreads()):
            cv2.setNumThreads(threads)
            steps = {k: round(timed(f, args.repeat), 4) for k, f in opencv_steps(rgb).items()}
            out[f"opencv {cv2.__version__}, {threads} thread(s)"] = steps
        out["opencv installed MB"] = installed_mb("cv2")
    if importlib.util.find_spec("skimage"):
        import skimage

        steps = {k: round(timed(f, args.repeat), 4) for k, f in skimage_steps(rgb).items()}
        out[f"scikit-image {skimage.__version__}"] = steps
        out["scikit-image installed MB (with networkx, imageio, tifffile, lazy_loader)"] = installed_mb(
            "skimage", "networkx", "imageio", "tifffile", "lazy_loader"
        )
    for value in out.values():
        if isinstance(value, dict):
            value["total"] = round(sum(value.values()), 4)
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
