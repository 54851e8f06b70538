"""Are the saliency maps faithful? A deletion test on real pen-written digits drawn on the canvas.

For every drawing, per model: erase the quarter of its ink that the map ranks highest (evidence for the
model's answer), then a random quarter, and measure how far the answer's probability falls. A faithful
map makes the first fall far larger (the goal: >= 3x the random fall, and >= 0.30 on average). The same
for the contrast with the runner-up (why a and not b): erase the quarter ranked highest by map(a) - map(b)
and measure how far the margin p(a) - p(b) falls.

Writers 1-20 are for choosing the method and quantity; writers 21-30 are held out, for reporting only.
The writers are picked by id here, whatever pendigits' own split says.

    python benchmarks/explain.py                                   # the shipped method, held-out writers
    python benchmarks/explain.py --writers tuning --every 4 --methods all --quantities all --models-dir models/tuning
    python benchmarks/explain.py --writers tuning --every 4 --models-dir /tmp/m   # models trained elsewhere
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from mnist_app import models
from mnist_app.artifacts import atomic_path, write_json
from mnist_app.contract import in_chunks
from mnist_app.data import pendigits
from mnist_app.preprocess import INK_THRESHOLD, canvas_to_mnist
from mnist_app.reading import explain

ROOT = Path(__file__).resolve().parent.parent

RESULTS = ROOT / "benchmarks" / "results"
WRITERS = {"tuning": range(1, 21), "heldout": range(21, 31)}
ERASED = 0.25  # the share of each digit's ink erased
GOAL_RATIO, GOAL_FALL = 3.0, 0.30
COMPARED = models.ENSEMBLE_MEMBERS_ONLY  # measured beside, when present: the ensemble's CNN without erased ink


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", help="model names (default: the shipped ones present, and COMPARED)")
    parser.add_argument("--models-dir", default=str(models.MODELS_DIR), help="where the models are")
    parser.add_argument("--writers", default="heldout", choices=tuple(WRITERS))
    parser.add_argument("--methods", nargs="+", default=[explain.METHOD], help=f"{explain.METHODS} or 'all'")
    parser.add_argument("--quantities", nargs="+", default=[explain.QUANTITY], help=f"{explain.QUANTITIES} or 'all'")
    parser.add_argument("--every", type=int, default=1, help="use every Nth drawing (quick runs; all writers kept)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawings and of the random erasures")
    parser.add_argument("--data", help="pendigits-orig.tra (default: $PENDIGITS or ../shared/pendigits)")
    args = parser.parse_args(argv)
    args.methods = list(explain.METHODS) if args.methods == ["all"] else args.methods
    args.quantities = list(explain.QUANTITIES) if args.quantities == ["all"] else args.quantities
    return args


def drawings(writers: range, every: int, seed: int, path: str | None) -> tuple[np.ndarray, int]:
    """The chosen writers' digits, drawn on the canvas and preprocessed as the app does: (n, 28, 28), writers."""
    digits = [d for d in pendigits.load(path) if d.writer in writers][::every]
    canvases, _, _ = pendigits.as_canvas_drawings(digits, seed)
    return np.stack([canvas_to_mnist(c) for c in canvases]), len({d.writer for d in digits})


def erase(images: np.ndarray, ranking: np.ndarray) -> np.ndarray:
    """Each image with the ERASED share of its ink pixels that rank highest set to black."""
    out = images.copy()
    for image, rank in zip(out, ranking, strict=True):
        ink = np.flatnonzero(image.ravel() >= INK_THRESHOLD)
        chosen = ink[np.argsort(-rank.ravel()[ink], kind="stable")[: int(round(ERASED * len(ink)))]]
        image.ravel()[chosen] = 0.0
    return out


def probabilities(model: models.Model, images: np.ndarray) -> np.ndarray:
    return in_chunks(model.predict_proba, images, 512)


def falls(model, images, probs, answers, runners, ranking) -> tuple[float, float]:
    """Mean fall of the answer's probability, and of the margin p(answer) - p(runner-up), once `ranking` is erased."""
    after = probabilities(model, erase(images, ranking))
    rows = np.arange(len(images))
    answer_fall = probs[rows, answers] - after[rows, answers]
    margin_fall = (probs[rows, answers] - probs[rows, runners]) - (after[rows, answers] - after[rows, runners])
    return float(answer_fall.mean()), float(margin_fall.mean())


def measure(model: models.Model, images: np.ndarray, methods: list[str], quantities: list[str], seed: int) -> list:
    """One row per method and quantity: the map's and random erasures' falls, for the answer and the contrast."""
    probs = probabilities(model, images)
    order = np.argsort(-probs, axis=1)
    answers, runners = order[:, 0], order[:, 1]
    random_rank = np.random.default_rng(seed).random(images.shape)
    random_answer, random_margin = falls(model, images, probs, answers, runners, random_rank)
    rows = []
    for method in methods:
        for quantity in quantities:
            start = time.perf_counter()
            for_answer = explain.saliency(model, images, answers, method, quantity)
            for_runner = explain.saliency(model, images, runners, method, quantity)
            seconds = time.perf_counter() - start
            answer_fall, _ = falls(model, images, probs, answers, runners, for_answer)
            _, margin_fall = falls(model, images, probs, answers, runners, for_answer - for_runner)
            rows.append(
                {
                    "method": method,
                    "quantity": quantity,
                    "map_fall": answer_fall,
                    "random_fall": random_answer,
                    "ratio": answer_fall / random_answer,
                    "contrast_map_fall": margin_fall,
                    "contrast_random_fall": random_margin,
                    "contrast_ratio": margin_fall / random_margin,
                    "maps_seconds": seconds,
                }
            )
    return rows


def table(results: dict) -> str:
    lines = [
        f"{results['n_digits']} drawings by {results['n_writers']} writers ({results['writers']}: "
        f"{results['writer_ids']}); erased: {ERASED:.0%} of each digit's ink",
        "",
        "| model | method | quantity | map fall | random fall | ratio | contrast map fall | contrast random fall "
        "| contrast ratio | goal met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, rows in results["models"].items():
        for r in rows:
            met = r["ratio"] >= GOAL_RATIO and r["map_fall"] >= GOAL_FALL
            lines.append(
                f"| {name} | {r['method']} | {r['quantity']} | {r['map_fall']:.3f} | {r['random_fall']:.3f} "
                f"| {r['ratio']:.1f}x | {r['contrast_map_fall']:.3f} | {r['contrast_random_fall']:.3f} "
                f"| {r['contrast_ratio']:.1f}x | {'yes' if met else 'no'} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    writers = WRITERS[args.writers]
    images, n_writers = drawings(writers, args.every, args.seed, args.data)
    names = args.models or models.available(args.models_dir) + [
        c for c in COMPARED if models.present(c, args.models_dir)
    ]
    results = {
        "writers": args.writers,
        "writer_ids": f"{writers.start}-{writers.stop - 1}",
        "n_writers": n_writers,
        "n_digits": len(images),
        "every": args.every,
        "seed": args.seed,
        "erased_share_of_ink": ERASED,
        "shipped": {"method": explain.METHOD, "quantity": explain.QUANTITY},
        "models": {},
    }
    for name in names:
        model = models.load(name, args.models_dir)
        results["models"][name] = measure(model, images, args.methods, args.quantities, args.seed)
        print(f"{name}: done", flush=True)
    if Path(args.models_dir).resolve() != Path(models.MODELS_DIR).resolve():
        print(table(results))  # other models than the shipped ones: printed, never written over their results
        return
    stem = RESULTS / f"explain-{args.writers}"
    write_json(stem.with_suffix(".json"), results)
    with atomic_path(stem.with_suffix(".md")) as tmp:
        tmp.write_text(table(results) + "\n")
    print(table(results))
    print(f"results: {stem}.json, {stem}.md")


if __name__ == "__main__":
    main()
