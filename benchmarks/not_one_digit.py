"""Is what is not one digit ever read as a sure single digit? (issue 35, point 4)

Draws, on the 280 px single-digit canvas: two digits side by side (one pen writer's own, gaps wide to touching),
random scribbles, and the signs + x ? (askew, 80-200 px, brushes 8-30 px, every colour scheme). Reports per model
the share read as a sure single digit: the page names a digit (legibility.problem says nothing, with the model, so
SEVERAL_DIGITS counts) and the model is sure at its calibrated threshold. Beside it, what the check costs real
single digits (benchmarks/drawn_digits.py's drawings of the same writers): the share flagged (any problem, or
unsure) and the accuracy of the rest (sure and right). With the ink-only check, with the number reader's too
(along the canvas's strokes, as the page asks it), and with the marks network's too
(reading.marks.mark_problem: the page now, since its held-out digits drawn in Chromium passed
benchmarks/canvas_drawings.py's check).
Writers 21-30 are measured by default; choose with --writers tuning (1-20; the scribbles and signs use another seed),
where --sweep prints the marks check at every threshold. Everything is drawn as Chromium's canvas draws it
(pendigits.CANVAS_SUPERSAMPLE, measured by benchmarks/canvas_drawings.py).

    python benchmarks/not_one_digit.py
    python benchmarks/not_one_digit.py --writers tuning --models numpy-mlp --json /tmp/choice.json
    python benchmarks/not_one_digit.py --writers tuning --sweep
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mnist_app import models, numbers
from mnist_app.artifacts import write_json
from mnist_app.data import pendigits
from mnist_app.numbers import written
from mnist_app.numbers.strokes import as_canvas_objects
from mnist_app.preprocess import canvas_to_mnist, ink_map
from mnist_app.reading import legibility, marks

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "not_one_digit.json"
SIGNS = ("+", "x", "?")
SEEDS = {"tuning": 1, "heldout": 2}  # the scribbles and signs of each split differ
FAITHFUL = pendigits.CANVAS_SUPERSAMPLE  # every drawing as Chromium's canvas would hand it to the page


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", default="heldout", choices=("heldout", "tuning"), help="21-30 or 1-20")
    parser.add_argument("--models", nargs="+", help="model names (default: every shipped model present)")
    parser.add_argument("--per-writer", type=int, default=20, help="two-digit drawings per writer (default 20)")
    parser.add_argument("--marks", type=int, default=100, help="scribbles, and drawings of each sign (default 100)")
    parser.add_argument("--every", type=int, default=4, help="every Nth pen digit as a single digit (default 4)")
    parser.add_argument("--data", help="pendigits-orig.tra (default: $PENDIGITS or ../shared/pendigits)")
    parser.add_argument("--marks-file", type=Path, default=marks.FILE, help="the marks network to ask (a candidate)")
    parser.add_argument("--sweep", action="store_true", help="the marks check at every threshold (to choose on tuning)")
    parser.add_argument("--json", type=Path, help=f"where to write (default {RESULTS} for held-out runs)")
    return parser.parse_args(argv)


Drawing = tuple[np.ndarray, list[dict]]  # the canvas's image and its strokes as the canvas's objects: the page's two


def drawn_marks(strokes: list[np.ndarray], rng: np.random.Generator) -> Drawing:
    """Strokes drawn with a random brush and scheme at a random place on the canvas."""
    brush = rng.uniform(*written.BRUSHES)
    scheme = pendigits.SCHEMES[rng.integers(len(pendigits.SCHEMES))]
    return written.drawn_on_square(strokes, brush, scheme, rng, FAITHFUL)


def single_digits(digits: list[pendigits.PenDigit]) -> tuple[list[Drawing], np.ndarray]:
    """benchmarks/drawn_digits.py's drawings of the digits (pendigits.as_canvas_drawings), each with its strokes."""
    images, labels, settings = pendigits.as_canvas_drawings(digits, 0, FAITHFUL)
    strokes = [pendigits.canvas_strokes(d, s["size"], s["centre"]) for d, s in zip(digits, settings, strict=True)]
    objects = [as_canvas_objects(k, s["brush"]) for k, s in zip(strokes, settings, strict=True)]
    return list(zip(images, objects, strict=True)), labels


def cases(digits: list[pendigits.PenDigit], args: argparse.Namespace) -> dict[str, list[Drawing]]:
    """Drawings that are not one digit, by kind: 'two digits', 'scribble', and each sign."""
    seed, out = SEEDS[args.writers], {"two digits": [], "scribble": []}
    for writer in sorted({d.writer for d in digits}):
        own = [d for d in digits if d.writer == writer]
        for k in range(args.per_writer):
            rng = np.random.default_rng((seed, writer, k))
            pair = [own[i] for i in rng.choice(len(own), 2, False)]
            out["two digits"].append(written.side_by_side(pair, rng, FAITHFUL))
    for k in range(args.marks):
        rng = np.random.default_rng((seed, 100, k))
        out["scribble"].append(drawn_marks(written.scribble(rng), rng))
        for sign in SIGNS:
            out[sign] = [*out.get(sign, []), drawn_marks(written.sign(sign, rng), rng)]
    return out


CHECKS = ("ink_only", "with_model", "with_marks")


def judged(model: models.Model, drawing: Drawing, path: Path = marks.FILE) -> dict:
    """What the page makes of a drawing, the marks network's threshold aside: whether the ink alone, or the number
    reader too (along the strokes, as the page asks it), finds a problem; the model's digit and whether it is sure;
    the marks network's probability."""
    image, strokes = drawing
    reading = models.read(model.predict_proba(canvas_to_mnist(image)[None])[0], model.unsure_below)
    return {
        "ink_only": legibility.ink_problem(ink_map(image)) is None,
        "with_model": numbers.one_digit_problem(image, model, strokes) is None,
        "sure": not reading.unsure,
        "digit": reading.digit,
        "probability": float(reading.probability),
        "mark": float(marks.mark_probability(marks.as_seen(image)[None], path)[0]),
    }


def named(found: dict, check: str, mark_above: float = marks.MARK_ABOVE) -> bool:
    """The page names one sure digit under a check: the ink's, the number reader's too, or the marks network's too
    (reading.marks.mark_problem at `mark_above`)."""
    passed = found["ink_only"] if check == "ink_only" else found["with_model"]
    return passed and found["sure"] and (check != "with_marks" or found["mark"] <= mark_above)


def summary(by_kind: dict, by_digit: list, labels: np.ndarray, mark_above: float = marks.MARK_ABOVE) -> dict:
    """Per check and kind, the share named as a sure single digit; for real digits, flagged and sure-and-right."""
    out = {}
    for check in CHECKS:
        shares = {kind: float(np.mean([named(f, check, mark_above) for f in found])) for kind, found in by_kind.items()}
        sure = np.array([named(f, check, mark_above) for f in by_digit])
        right = np.array([f["digit"] for f in by_digit]) == labels
        digits = {"flagged": float(1 - sure.mean()), "sure_and_right": float(right[sure].mean())}
        out[check] = {"named_sure_single": shares, "single_digits": digits}
    return out


def sweep(name: str, by_kind: dict, by_digit: list, labels: np.ndarray, unseen: np.ndarray) -> None:
    """The marks check at thresholds 0.05-0.95, what marks.MARK_ABOVE is chosen by (tuning writers only): per kind the
    share named, the digits flagged, and the sure-and-right digits of writers it was not fitted on called marks."""
    good = np.array([named(f, "with_model") and f["digit"] == label for f, label in zip(by_digit, labels, strict=True)])
    for above in np.arange(0.05, 1.0, 0.05):
        r = summary(by_kind, by_digit, labels, float(above))["with_marks"]
        kinds = " | ".join(f"{v:.1%}" for v in r["named_sure_single"].values())
        lost = [g and f["mark"] > above for f, g, u in zip(by_digit, good, unseen, strict=True) if u]
        flagged = r["single_digits"]["flagged"]
        print(f"| {name} | {above:.2f} | {kinds} | {flagged:.1%} | {sum(lost)} of {sum(good[unseen])} |")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    digits = pendigits.select_writers(pendigits.load(args.data), args.writers)
    made = cases(digits, args)
    images, labels = single_digits(digits[:: args.every])
    writers = np.array([d.writer for d in digits[:: args.every]])
    print(f"writers {args.writers}: " + ", ".join(f"{len(v)} {k}" for k, v in made.items()) + f", {len(images)} digits")
    results = {"writers": args.writers, "mark_above": marks.MARK_ABOVE, "cases": {k: len(v) for k, v in made.items()}}
    results["models"] = {}
    for name in args.models or models.available():
        model = models.load(name)
        by_kind = {kind: [judged(model, i, args.marks_file) for i in drawings] for kind, drawings in made.items()}
        by_digit = [judged(model, i, args.marks_file) for i in images]
        if args.sweep:
            sweep(name, by_kind, by_digit, labels, writers > marks.FITTED_WRITERS)
            continue
        results["models"][name] = report = summary(by_kind, by_digit, labels)
        for check, r in report.items():
            kinds = " | ".join(f"{v:.1%}" for v in r["named_sure_single"].values())
            d = r["single_digits"]
            print(f"| {name} | {check} | {kinds} | {d['flagged']:.1%} | {d['sure_and_right']:.2%} |")
    target = args.json or (RESULTS if args.writers == "heldout" and args.models is None else None)
    if target and not args.sweep:
        write_json(target, results)
    print(f"results: {target if target and not args.sweep else '(not written: pass --json)'}")


if __name__ == "__main__":
    main()
