"""How well are digits on a photo of paper read? (issue 39) Photos made from held-out pen strokes, MNIST digits
written onto the same paper, and blank pages, each read by read_number's photo path.

Every photo is made by mnist_app.photos.made (seeded): thin black or blue pen or pencil on plain, squared or ruled
paper, turned a few degrees and seen askew on a desk, uneven light and a soft shadow, blurred, JPEG at a phone's size
(640x480 to 4000x3000). Reported per model: single digits read right (one pen digit a photo), numbers of 2-5 digits
read exactly, blank pages read as nothing, MNIST test digits on paper read right against the same digits read as
their own 28x28 images (the price of the photo steps), and seconds per photo (the whole read_number call: mean, and
for 4000x3000 photos alone). Writers 21-30 (held out) by default; the photo steps' thresholds were tuned with
--writers tuning (writers 1-20) and MNIST's training digits.

    python benchmarks/paper.py                                    # writers 21-30, every shipped model
    python benchmarks/paper.py --writers tuning --per-writer 10 --models numpy-mlp --json /tmp/paper.json
    python benchmarks/paper.py --mnist-stroke                     # MNIST's stroke width over its digits' height
    python benchmarks/paper.py --writers tuning --misreads /tmp/misreads   # look at what fails: photo, ink, crops
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from mnist_app import models
from mnist_app.artifacts import write_json
from mnist_app.data import load_mnist, pendigits
from mnist_app.numbers import read_number
from mnist_app.photos import NotAPhotoOfANumberError, made, photo_ink
from mnist_app.photos.ink import LINE, stroke_width

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "paper.json"
LENGTHS = (2, 3, 4, 5)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", default="heldout", choices=("heldout", "tuning"), help="21-30 or 1-20")
    parser.add_argument("--models", nargs="+", help="model names (default: every shipped model present)")
    parser.add_argument("--per-writer", type=int, default=6, help="single-digit photos and number photos, each")
    parser.add_argument("--blank", type=int, default=100, help="photos of blank paper")
    parser.add_argument("--mnist", type=int, default=100, help="MNIST digits on paper (test set; train if tuning)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", help="pendigits-orig.tra (default: $PENDIGITS or ../shared/pendigits)")
    parser.add_argument("--json", type=Path, help=f"where to write (default {RESULTS} for held-out runs)")
    parser.add_argument("--mnist-stroke", action="store_true", help="measure MNIST's stroke width and stop")
    parser.add_argument("--misreads", type=Path, help="save each misread photo, its ink and its 28x28 crops here")
    return parser.parse_args(argv)


def cases(args: argparse.Namespace) -> list[tuple[str, str, bytes, tuple]]:
    """(kind, true text, JPEG bytes, size) for every photo: 'single', 'number', 'blank', 'mnist'."""
    digits = pendigits.select_writers(pendigits.load(args.data), args.writers)
    out = []
    for writer in sorted({d.writer for d in digits}):
        own = [d for d in digits if d.writer == writer]
        for k in range(2 * args.per_writer):
            length = 1 if k < args.per_writer else LENGTHS[k % len(LENGTHS)]
            jpeg, scene, written = made.writer_photo(own, (args.seed, writer, k), length)
            out.append(("single" if length == 1 else "number", written, jpeg, scene["size"]))
    other = 100 if args.writers == "heldout" else 101  # tuning never sees the held-out run's blank pages
    for k in range(args.blank):
        jpeg, scene = made.blank_photo(np.random.default_rng((args.seed, other, k)))
        out.append(("blank", "", jpeg, scene["size"]))
    mnist = load_mnist()
    images, labels = (mnist.x_train, mnist.y_train) if args.writers == "tuning" else (mnist.x_test, mnist.y_test)
    for k in range(args.mnist):
        jpeg, scene = made.mnist_photo(images[k], np.random.default_rng((args.seed, other + 100, k)))
        out.append(("mnist", str(labels[k]), jpeg, scene["size"]))
    return out


def save_misread(folder: Path, index: int, kind: str, truth: str, photo: np.ndarray, reading) -> None:
    """A misread photo (shrunk to 1600 px, PNG), its ink as the segmentation took it and the crops the model was
    handed, named by what was written and what was read: to find causes by looking (tuning writers only)."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{index:04d}-{kind}-{truth or 'blank'}-read-{reading.text or 'none'}"
    f = min(1.0, 1600 / max(photo.shape[:2]))
    small = cv2.resize(photo, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    for x0, y0, x1, y1 in reading.boxes:
        cv2.rectangle(small, (int(x0 * f), int(y0 * f)), (int(x1 * f), int(y1 * f)), (255, 0, 0), 2)
    cv2.imwrite(f"{stem}-photo.png", cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    try:
        found = photo_ink(photo)
    except NotAPhotoOfANumberError:
        found = None
    if found is not None:
        cv2.imwrite(f"{stem}-ink.png", np.round(255 * (1 - found.ink)).astype(np.uint8))
    if reading.digits:
        crops = np.hstack([np.pad(d.image, 1, constant_values=0.5) for d in reading.digits])
        cv2.imwrite(f"{stem}-crops.png", cv2.resize(np.round(255 * crops).astype(np.uint8), None, fx=4, fy=4))


def measure(
    name: str, photos: list[tuple[str, str, bytes, tuple]], mnist_images: np.ndarray, misreads: Path | None = None
) -> dict:
    """One model's figures: each kind's share read right, MNIST read as 28x28 images, seconds per photo."""
    model = models.load(name)
    read_number(made.decoded(photos[0][2]), model)  # warm up: the first call builds the graph
    rows = {kind: [] for kind in ("single", "number", "blank", "mnist")}
    seconds, large = [], []
    for index, (kind, truth, jpeg, size) in enumerate(photos):
        photo = made.decoded(jpeg)
        start = time.perf_counter()
        reading = read_number(photo, model)
        text = reading.text
        spent = time.perf_counter() - start
        seconds.append(spent)
        if size == made.SIZES[-1]:
            large.append(spent)
        rows[kind].append(text == truth)
        if misreads and text != truth:
            save_misread(misreads / name, index, kind, truth, photo, reading)
    alone = model.predict_proba(mnist_images.astype(np.float32) / 255.0).argmax(axis=1)
    mnist_truth = np.array([int(t) for kind, t, _, _ in photos if kind == "mnist"])
    return {
        **{f"{kind}_right": float(np.mean(right)) if right else None for kind, right in rows.items()},
        **{f"{kind}_n": len(right) for kind, right in rows.items()},
        "mnist_as_images_right": float(np.mean(alone == mnist_truth)) if len(mnist_truth) else None,
        "seconds_mean": float(np.mean(seconds)),
        "seconds_4000x3000_mean": float(np.mean(large)) if large else None,
        "seconds_4000x3000_max": float(np.max(large)) if large else None,
        "n_4000x3000": len(large),
    }


def share(value: float | None) -> str:
    """A share as a percentage, or "-" where a run made no photo of that kind (--blank 0, --per-writer 0)."""
    return "-" if value is None else f"{value:.2%}"


def mnist_stroke(count: int = 3000) -> dict:
    """MNIST's stroke width over its digits' height, as photos.ink measures a photo's (digits grown to LINE px)."""
    import cv2

    ratios = []
    for digit in load_mnist().x_train[:count]:
        side = int(round(LINE * 28 / 20))
        grown = cv2.resize(digit.astype(np.float32) / 255.0, (side, side), interpolation=cv2.INTER_CUBIC) > 0.5
        rows = np.flatnonzero(grown.any(axis=1))
        ratios.append(stroke_width(grown) / (rows[-1] - rows[0] + 1))
    return {"median": float(np.median(ratios)), "mean": float(np.mean(ratios)), "n": count}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.mnist_stroke:
        print(mnist_stroke())
        return {}
    start = time.perf_counter()
    photos = cases(args)
    mnist = load_mnist()
    source = mnist.x_train if args.writers == "tuning" else mnist.x_test
    print(f"{len(photos)} photos made in {time.perf_counter() - start:.0f} s (writers {args.writers})")
    results = {"writers": args.writers, "per_writer": args.per_writer, "seed": args.seed, "models": {}}
    print("| model | single digits | numbers 2-5 exact | blank pages as nothing | MNIST on paper / as images |", end="")
    print(" s/photo | s/12 MP |")
    for name in args.models or models.available():
        results["models"][name] = r = measure(name, photos, source[: args.mnist], args.misreads)
        shares = (r["single_right"], r["number_right"], r["blank_right"], r["mnist_right"], r["mnist_as_images_right"])
        single, number, blank, on_paper, as_images = (share(x) for x in shares)
        large = "-" if r["seconds_4000x3000_mean"] is None else f"{r['seconds_4000x3000_mean']:.2f}"
        seconds = f"{r['seconds_mean']:.2f}"
        print(f"| {name} | {single} | {number} | {blank} | {on_paper} / {as_images} | {seconds} | {large} |")
    target = args.json or (RESULTS if args.writers == "heldout" and args.models is None else None)
    if target:
        write_json(target, results)
    print(f"results: {target or '(not written: pass --json)'}")
    return results


if __name__ == "__main__":
    main()
