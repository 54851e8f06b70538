"""Pen digits drawn with the mouse on the Draw page's real canvas in Chromium, and what the canvas hands the app.

The not-a-digit check (reading/marks.py) was fitted on the project's own rendering of pen strokes
(pendigits.render_strokes) and, on the page, called held-out 9s drawn with the mouse marks (issue 35). This draws
pen digits stroke by stroke as the browser tests do (scaffold.draw) on a bare page that holds
sketchpad.show's canvas, keeps each image the app receives with Fabric's strokes, and compares it with the Python
rendering of the same strokes: ink, stroke width, the 28x28 the models see, and the marks network's probability.

    python benchmarks/canvas_drawings.py --writers 1-20 --out /tmp/canvas_tuning.npz
    python benchmarks/canvas_drawings.py --compare /tmp/canvas_tuning.npz
    python benchmarks/canvas_drawings.py --readable --brushes 10 20 30 --out /tmp/canvas_readable.npz
    python benchmarks/canvas_drawings.py --offline --writers 16-20 --per-label 1000    # every one, no browser
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from mnist_app import models  # noqa: E402
from mnist_app.artifacts import write_json  # noqa: E402
from mnist_app.data import pendigits  # noqa: E402
from mnist_app.preprocess import canvas_to_mnist, ink_map  # noqa: E402
from mnist_app.reading import marks  # noqa: E402
from mnist_app.reading.legibility import measure_ink  # noqa: E402

PAGE = ROOT / "benchmarks" / "pages" / "canvas_page.py"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", default="1-20", help="pen writers to draw, as 'first-last' (default 1-20)")
    parser.add_argument("--readable", action="store_true", help="the browser tests' held-out digits (readable_digits)")
    parser.add_argument("--per-label", type=int, default=2, help="digits of each label (default 2)")
    parser.add_argument("--brushes", type=int, nargs="+", default=[10, 20, 30], help="slider values (default 10 20 30)")
    parser.add_argument("--out", type=Path, help="where to keep the captured drawings (.npz)")
    parser.add_argument("--offline", action="store_true", help="render as the canvas draws instead of drawing in it")
    parser.add_argument("--compare", type=Path, help="compare drawings captured before (.npz) instead of drawing")
    parser.add_argument("--marks-file", type=Path, default=marks.FILE, help="the marks network to ask (a candidate)")
    parser.add_argument("--models", nargs="+", help="models whose sure readings count (default: every one present)")
    parser.add_argument("--json", type=Path, help="where to write the figures")
    return parser.parse_args(argv)


def chosen_digits(args: argparse.Namespace) -> list[pendigits.PenDigit]:
    """per_label digits of each label: the browser tests' own (--readable), or the first of the writers named."""
    if args.readable:
        from scaffold import readable_digits

        found = readable_digits(tuple(models.SHIPPED), per_label=args.per_label)
        return [d for label in range(10) for d in found[label]]
    first, last = (int(w) for w in args.writers.split("-"))
    pool = [d for d in pendigits.load() if first <= d.writer <= last]
    rng = np.random.default_rng(0)
    return [d for label in range(10) for d in rng.permuted([d for d in pool if d.label == label])[: args.per_label]]


def capture(digits: list[pendigits.PenDigit], brushes: list[int]) -> dict[str, np.ndarray]:
    """Every digit drawn with every brush on the real canvas: the images the app received and what was drawn."""
    from scaffold import canvas_box, canvas_strokes, chromium, draw, settle, streamlit_server

    kept = {"image": [], "label": [], "writer": [], "brush": [], "drawn": [], "fabric": []}
    with tempfile.TemporaryDirectory() as folder:
        env = {"CANVAS_CAPTURE": folder}
        with streamlit_server(Path(folder) / "server.log", env, PAGE) as (url, _), chromium() as browser:
            for brush in brushes:
                page = browser.new_page(viewport={"width": 1000, "height": 900})
                page.set_default_timeout(60_000)
                page.goto(f"{url}/?brush={brush}")
                page.get_by_text("empty canvas").wait_for()
                box = canvas_box(page)
                for digit in digits:
                    strokes = canvas_strokes(digit)
                    draw(page, box, strokes)
                    page.get_by_text(f"held strokes: {len(strokes)}", exact=True).wait_for()
                    settle(page, 500)
                    with np.load(Path(folder) / "latest.npz") as saved:
                        kept["image"].append(saved["image"])
                        kept["fabric"].append(str(saved["strokes"]))
                    kept["label"].append(digit.label)
                    kept["writer"].append(digit.writer)
                    kept["brush"].append(brush)
                    kept["drawn"].append(json.dumps([s.tolist() for s in strokes]))
                    page.get_by_role("button", name="Clear").click()
                    page.get_by_text("empty canvas").wait_for()
                    settle(page, 300)
                print(f"brush {brush}: {len(digits)} drawn", flush=True)
                page.close()
    return {k: np.array(v) for k, v in kept.items()}


def rendered_as_canvas(digits: list[pendigits.PenDigit], brushes: list[int]) -> dict[str, np.ndarray]:
    """`capture` without a browser: the same strokes rendered as the canvas draws them (pendigits.CANVAS_SUPERSAMPLE),
    for as many digits as one likes."""
    from scaffold import canvas_strokes

    kept = {"image": [], "label": [], "writer": [], "brush": [], "drawn": []}
    for brush in brushes:
        for digit in digits:
            strokes = canvas_strokes(digit)
            image = pendigits.render_strokes(strokes, brush, "alpha-only", supersample=pendigits.CANVAS_SUPERSAMPLE)
            kept["image"].append(image)
            kept["label"].append(digit.label)
            kept["writer"].append(digit.writer)
            kept["brush"].append(brush)
            kept["drawn"].append(json.dumps([s.tolist() for s in strokes]))
    return {k: np.array(v) for k, v in kept.items()}


def rendered(kept: dict[str, np.ndarray], k: int, supersample: int = pendigits.SUPERSAMPLE) -> np.ndarray:
    """Python's rendering of the strokes of drawing k, with its brush: alpha-only, as the canvas hands it over."""
    strokes = [np.array(s) for s in json.loads(str(kept["drawn"][k]))]
    return pendigits.render_strokes(strokes, float(kept["brush"][k]), "alpha-only", supersample=supersample)


def likeness(canvas: list[np.ndarray], python: list[np.ndarray]) -> dict[str, float]:
    """How Python's renderings differ from the canvas's images of the same strokes (ink maps)."""
    pairs = list(zip(canvas, python, strict=True))

    def partly(ink: np.ndarray) -> float:  # the share of inked pixels only partly inked: how soft the edges are
        return float(((ink > 0.05) & (ink < 0.95)).sum() / (ink > 0.05).sum())

    return {
        "ink_ratio": float(np.mean([c.sum() / p.sum() for c, p in pairs])),
        "stroke_minus": float(np.mean([measure_ink(c).stroke - measure_ink(p).stroke for c, p in pairs])),
        "edges_canvas": float(np.mean([partly(c) for c in canvas])),
        "edges_python": float(np.mean([partly(p) for p in python])),
        "mean_abs": float(np.mean([np.abs(c - p).mean() for c, p in pairs])),
    }


def compare(kept: dict[str, np.ndarray], path: Path = marks.FILE) -> dict:
    """Per brush, the canvas against Python's rendering at 2x (pendigits) and as the canvas draws (4x), and the marks
    network's probability for each; per model, the sure-and-right drawings it calls marks on the canvas."""
    rows = {}
    for brush in sorted(set(kept["brush"].tolist())):
        at = np.flatnonzero(kept["brush"] == brush)
        canvas = [kept["image"][k] for k in at]
        python2 = [rendered(kept, k) for k in at]
        python4 = [rendered(kept, k, pendigits.CANVAS_SUPERSAMPLE) for k in at]
        row = {}
        for name, images in (("canvas", canvas), ("python_2x", python2), ("python_4x", python4)):
            p = marks.mark_probability(np.stack([marks.as_seen(i) for i in images]), path)
            row[name] = {
                "mark_mean": float(p.mean()),
                "mark_max": float(p.max()),
                "called": int((p > marks.MARK_ABOVE).sum()),
            }
            if name != "canvas":
                row[name] |= likeness([ink_map(i) for i in canvas], [ink_map(i) for i in images])
        rows[int(brush)] = row
        for name, r in row.items():
            print(
                f"brush {brush} {name}: "
                + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items())
            )
    return rows


def sure_and_right_called(kept: dict[str, np.ndarray], names: list[str], path: Path = marks.FILE) -> dict:
    """Per model, the canvas drawings it reads right and sure, and how many of them the marks network calls marks."""
    seen = np.stack([canvas_to_mnist(i) for i in kept["image"]])
    p = marks.mark_probability(np.stack([marks.as_seen(i) for i in kept["image"]]), path)
    out = {}
    for name in names:
        model = models.load(name)
        readings = [models.read(row, model.unsure_below) for row in model.predict_proba(seen)]
        good = np.array([not r.unsure and r.digit == label for r, label in zip(readings, kept["label"], strict=True)])
        called = good & (p > marks.MARK_ABOVE)
        highest = float(p[good].max()) if good.any() else 0.0  # how far the threshold is from calling one a mark
        out[name] = {"sure_and_right": int(good.sum()), "called_marks": int(called.sum()), "of": len(good)}
        out[name]["highest_mark_probability"] = highest
        where = [
            f"{kept['label'][k]} of writer {kept['writer'][k]}, brush {kept['brush'][k]}"
            for k in np.flatnonzero(called)
        ]
        print(f"{name}: {good.sum()} of {len(good)} sure and right, {called.sum()} called marks {where}")
        print(f"{name}: the highest mark probability of a sure and right one {highest:.3f}")
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.compare:
        with np.load(args.compare) as saved:
            kept = dict(saved)
    elif args.offline:
        kept = rendered_as_canvas(chosen_digits(args), args.brushes)
    else:
        kept = capture(chosen_digits(args), args.brushes)
        if args.out:
            np.savez_compressed(args.out, **kept)
    results = {"drawings": len(kept["label"]), "writers": sorted(set(kept["writer"].tolist()))}
    if not args.offline:
        results["by_brush"] = compare(kept, args.marks_file)
    results["models"] = sure_and_right_called(kept, args.models or models.available(), args.marks_file)
    if args.json:
        write_json(args.json, results)


if __name__ == "__main__":
    main()
