"""How well are whole numbers read? (named so: a benchmarks/numbers.py would shadow the standard library's
`numbers` for every script in this folder) Numbers of 2-6 digits composed from one writer's own pen digits (issue 38).

Each number is one writer's pen digits at one height (each digit jittered), on a baseline that wanders, with gaps
from wide to touching (about a tenth touching or overlapping), one brush width per number (8-30 px) and one colour
scheme, on a canvas 280 px tall and as wide as the number needs. Reported per model: numbers read exactly, digit
count right, both per length, the same digits read one by one on their own 280 px canvas (the price of
segmentation: a number counts as right one by one when every digit is), and milliseconds per number (read_number's
whole call, by length). Each number is read twice: with its strokes as the canvas gives them (json_data's path
objects, in the order written: the Number mode's reading) and from the ink alone (`ink_only`: a photo's path); and
under `finished_late`, with a digit's last stroke written after the next digit (a 4's bar, a 5's cap, a 7's bar: half
of the digits written in several strokes), the numbers where that happened.
Writers 21-30 (held out) are measured by default; the costs of the search were tuned with --writers tuning, writers
1-20.

    python benchmarks/read_numbers.py                       # held-out writers 21-30, every shipped model
    python benchmarks/read_numbers.py --writers tuning --per-writer 20 --json /tmp/tuning.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from mnist_app import models
from mnist_app.artifacts import write_json
from mnist_app.data import pendigits
from mnist_app.numbers import read_number, written

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "numbers.json"
LENGTHS = (2, 3, 4, 5, 6)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", default="heldout", choices=("heldout", "tuning"), help="21-30 or 1-20")
    parser.add_argument("--models", nargs="+", help="model names (default: every shipped model present)")
    parser.add_argument("--per-writer", type=int, default=60, help="numbers composed per writer (default 60)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", help="pendigits-orig.tra (default: $PENDIGITS or ../shared/pendigits)")
    parser.add_argument("--json", type=Path, help=f"where to write (default {RESULTS} for held-out runs)")
    return parser.parse_args(argv)


def numbers_of(digits: list[pendigits.PenDigit], per_writer: int, seed: int) -> list[tuple[str, dict]]:
    """(true text, composed number) for each writer: lengths 2-6 in turn, digits drawn without replacement."""
    out = []
    for writer in sorted({d.writer for d in digits}):
        own = [d for d in digits if d.writer == writer]
        for k in range(per_writer):
            rng = np.random.default_rng((seed, writer, k))
            chosen = [own[i] for i in rng.choice(len(own), LENGTHS[k % len(LENGTHS)], replace=False)]
            number = written.compose(chosen, rng)
            number["late"] = written.finished_late(number, rng)
            out.append(("".join(str(d.label) for d in chosen), number))
    return out


def measure(name: str, numbers: list[tuple[str, dict]]) -> dict:
    """One model's figures on the numbers read with their strokes, and under "ink_only" without: exact, count right,
    one by one, ms, each overall and per length."""
    model = models.load(name)
    read_number(numbers[0][1]["image"], model)  # warm up: the first call builds the graph
    rows: dict[str, list] = {"strokes": [], "ink_only": [], "finished_late": []}
    for truth, number in numbers:
        alone = "".join(str(d) for d in model.predict_proba(written.one_by_one(number)).argmax(axis=1))
        ways = {"strokes": number["objects"], "ink_only": None}
        ways |= {"finished_late": number["late"]} if number["late"] != number["objects"] else {}
        for way, strokes in ways.items():
            start = time.perf_counter()
            text = read_number(number["image"], model, strokes=strokes).text
            ms = 1000 * (time.perf_counter() - start)
            rows[way].append((len(truth), text == truth, len(text) == len(truth), alone == truth, ms))
    figures = {way: summary(np.array(found, dtype=float)) for way, found in rows.items()}
    return figures["strokes"] | {"ink_only": figures["ink_only"], "finished_late": figures["finished_late"]}


def summary(rows: np.ndarray) -> dict:
    """Shares and times overall and per length, from rows of (length, exact, count right, one by one right, ms)."""

    def figures(part: np.ndarray) -> dict:
        return {
            "n": len(part),
            "exact": part[:, 1].mean(),
            "count_right": part[:, 2].mean(),
            "one_by_one": part[:, 3].mean(),
            "ms_mean": part[:, 4].mean(),
            "ms_p95": np.percentile(part[:, 4], 95),
        }

    out = figures(rows)
    out["per_length"] = {str(n): figures(rows[rows[:, 0] == n]) for n in LENGTHS if (rows[:, 0] == n).any()}
    return out


def row(label: str, figures: dict) -> str:
    """A results table's row: exact, count right, one by one, price of segmentation, ms, ms for 6 digits."""
    return (
        f"| {label} ({figures['n']}) | {figures['exact']:.2%} | {figures['count_right']:.2%} | "
        f"{figures['one_by_one']:.2%} | "
        f"{100 * (figures['one_by_one'] - figures['exact']):.2f} pt | {figures['ms_mean']:.0f} | "
        f"{figures['per_length'].get('6', {}).get('ms_mean', float('nan')):.0f} |"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    digits = pendigits.select_writers(pendigits.load(args.data), args.writers)
    numbers = numbers_of(digits, args.per_writer, args.seed)
    print(f"{len(numbers)} numbers from writers {args.writers} ({args.per_writer} per writer)")
    results = {"writers": args.writers, "per_writer": args.per_writer, "seed": args.seed, "models": {}}
    for name in args.models or models.available():
        results["models"][name] = report = measure(name, numbers)
        for how, figures in (("strokes", report), ("ink only", report["ink_only"]), ("late", report["finished_late"])):
            print(row(f"{name}, {how}", figures))
            print("   per length exact: " + " ".join(f"{n}:{f['exact']:.3f}" for n, f in figures["per_length"].items()))
    target = args.json or (RESULTS if args.writers == "heldout" and args.models is None else None)
    if target:
        write_json(target, results)
    print(f"results: {target or '(not written: pass --json)'}")


if __name__ == "__main__":
    main()
