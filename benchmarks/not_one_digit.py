"""Is what is not one digit ever read as a sure single digit? (issue 35, point 4)

Draws, on the 280 px single-digit canvas: two digits side by side (one pen writer's own, gaps wide to touching),
random scribbles, and the signs + x ? (askew, 80-200 px, brushes 8-30 px, every colour scheme). Reports per model
the share read as a sure single digit: the page names a digit (legibility.problem says nothing, with the model, so
SEVERAL_DIGITS counts) and the model is sure at its calibrated threshold. Beside it, what the check costs real
single digits (benchmarks/drawn_digits.py's drawings of the same writers): the share flagged (any problem, or
unsure) and the accuracy of the rest (sure and right). With the ink-only check, with the number reader's too (the
page before the marks network) and with the marks network's too (the page now: reading.marks.mark_problem).
Writers 21-30 are measured by default; choose with --writers tuning (1-20; the scribbles and signs use another seed).

    python benchmarks/not_one_digit.py
    python benchmarks/not_one_digit.py --writers tuning --models numpy-mlp --json /tmp/choice.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mnist_app import models, numbers
from mnist_app.artifacts import write_json
from mnist_app.data import pendigits
from mnist_app.numbers import written
from mnist_app.preprocess import canvas_to_mnist, ink_map
from mnist_app.reading import legibility, marks

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "not_one_digit.json"
SIGNS = ("+", "x", "?")
SEEDS = {"tuning": 1, "heldout": 2}  # the scribbles and signs of each split differ


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", default="heldout", choices=("heldout", "tuning"), help="21-30 or 1-20")
    parser.add_argument("--models", nargs="+", help="model names (default: every shipped model present)")
    parser.add_argument("--per-writer", type=int, default=20, help="two-digit drawings per writer (default 20)")
    parser.add_argument("--marks", type=int, default=100, help="scribbles, and drawings of each sign (default 100)")
    parser.add_argument("--every", type=int, default=4, help="every Nth pen digit as a single digit (default 4)")
    parser.add_argument("--data", help="pendigits-orig.tra (default: $PENDIGITS or ../shared/pendigits)")
    parser.add_argument("--json", type=Path, help=f"where to write (default {RESULTS} for held-out runs)")
    return parser.parse_args(argv)


def drawn_marks(strokes: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Strokes drawn with a random brush and scheme at a random place on the canvas."""
    brush = rng.uniform(*written.BRUSHES)
    return written.on_square(strokes, brush, pendigits.SCHEMES[rng.integers(len(pendigits.SCHEMES))], rng)


def cases(digits: list[pendigits.PenDigit], args: argparse.Namespace) -> dict[str, list[np.ndarray]]:
    """Drawings that are not one digit, by kind: 'two digits', 'scribble', and each sign."""
    seed, out = SEEDS[args.writers], {"two digits": [], "scribble": []}
    for writer in sorted({d.writer for d in digits}):
        own = [d for d in digits if d.writer == writer]
        for k in range(args.per_writer):
            rng = np.random.default_rng((seed, writer, k))
            out["two digits"].append(written.side_by_side([own[i] for i in rng.choice(len(own), 2, False)], rng))
    for k in range(args.marks):
        rng = np.random.default_rng((seed, 100, k))
        out["scribble"].append(drawn_marks(written.scribble(rng), rng))
        for sign in SIGNS:
            out[sign] = [*out.get(sign, []), drawn_marks(written.sign(sign, rng), rng)]
    return out


CHECKS = ("ink_only", "with_model", "with_marks")


def problems(model: models.Model, image: np.ndarray) -> dict[str, str | None]:
    """What each check says is wrong: the ink alone; with the number reader too (the page before the marks network);
    with the marks network too (the page now)."""
    several = numbers.one_digit_problem(image, model)
    ink = legibility.ink_problem(ink_map(image))
    return {"ink_only": ink, "with_model": several, "with_marks": several or marks.mark_problem(image)}


def named(model: models.Model, image: np.ndarray) -> dict[str, tuple[bool, int]]:
    """Per check, (the page names one sure digit, which)."""
    reading = models.read(model.predict_proba(canvas_to_mnist(image)[None])[0], model.unsure_below)
    return {
        check: (found is None and not reading.unsure, reading.digit) for check, found in problems(model, image).items()
    }


def measure(name: str, cases: dict, singles: tuple[list, np.ndarray]) -> dict:
    """Per check and kind, the share named as a sure single digit; for real digits, flagged and sure-and-right."""
    model = models.load(name)
    by_kind = {kind: [named(model, i) for i in images] for kind, images in cases.items()}
    by_digit = [named(model, i) for i in singles[0]]
    out = {}
    for check in CHECKS:
        shares = {kind: float(np.mean([n[check][0] for n in found])) for kind, found in by_kind.items()}
        sure = np.array([n[check][0] for n in by_digit])
        right = np.array([n[check][1] for n in by_digit]) == singles[1]
        digits = {"flagged": float(1 - sure.mean()), "sure_and_right": float(right[sure].mean())}
        out[check] = {"named_sure_single": shares, "single_digits": digits}
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    digits = pendigits.select_writers(pendigits.load(args.data), args.writers)
    made = cases(digits, args)
    images, labels, _ = pendigits.as_canvas_drawings(digits[:: args.every], 0)
    print(f"writers {args.writers}: " + ", ".join(f"{len(v)} {k}" for k, v in made.items()) + f", {len(images)} digits")
    results = {"writers": args.writers, "cases": {k: len(v) for k, v in made.items()}, "models": {}}
    for name in args.models or models.available():
        results["models"][name] = report = measure(name, made, (images, labels))
        for check, r in report.items():
            kinds = " | ".join(f"{v:.1%}" for v in r["named_sure_single"].values())
            d = r["single_digits"]
            print(f"| {name} | {check} | {kinds} | {d['flagged']:.1%} | {d['sure_and_right']:.2%} |")
    target = args.json or (RESULTS if args.writers == "heldout" and args.models is None else None)
    if target:
        write_json(target, results)
    print(f"results: {target or '(not written: pass --json)'}")


if __name__ == "__main__":
    main()
