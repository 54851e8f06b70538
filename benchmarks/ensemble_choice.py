"""Which ensemble should ship? Measured on pen-digit writers the members never trained on (16-20), never 21-30.

The shipped models train on every trainable writer (1-20), so the candidates are their tuning twins
(models/tuning: the same recipes on writers 1-15), as the ensemble's calibration is.

Each candidate averages some of the trained models, each reading the digit upright and turned a few
degrees. One set of readings (model x rotation) serves every candidate. Two renderings of the same
digits are measured: the drawn-digit benchmark's recipe, and the wider one the models train on.

    python benchmarks/ensemble_choice.py               # writers 16-20; prints a table, best first
    python benchmarks/ensemble_choice.py --models-dir /tmp/m/tuning   # candidates trained elsewhere
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from mnist_app import calibration, models, pen_training, pendigits, reports
from mnist_app.ensemble import turned
from mnist_app.metrics import per_writer
from mnist_app.preprocess import canvas_to_mnist

# the candidates, where present: the shipped models and the CNN fine-tuned without erased ink (a comparison)
MEMBERS = ("keras-cnn", "keras-cnn-no-erasing", "keras-mlp", "numpy-mlp")
ROTATION_SETS = ((0.0,), (0.0, -4.0, 4.0), (0.0, -4.0, 4.0, -8.0, 8.0))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", default="16-20", help="A-B, within the trainable writers 1-20")
    parser.add_argument("--models-dir", default=str(models.twins_dir()), help="where the trained members are")
    return parser.parse_args(argv)


def drawn_sets(writers: tuple[int, ...]) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The writers' digits in the benchmark's rendering and in the training rendering (calibration's set):
    images, labels and each drawing's writer."""
    pendigits.check_trainable(writers)
    digits = [d for d in pendigits.load() if d.writer in writers]
    drawings, labels, _ = pendigits.as_canvas_drawings(digits, seed=0)
    recipe = np.stack([canvas_to_mnist(d) for d in drawings])
    return {
        "benchmark recipe": (recipe, labels, np.array([d.writer for d in digits])),
        "varied": pen_training.cached_drawings(writers, 3, 1),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    low, high = (int(w) for w in args.writers.split("-"))
    chosen = tuple(range(low, high + 1))
    present = [name for name in MEMBERS if models.present(name, args.models_dir)]
    try:
        reports.refuse_seen_writers(present, args.models_dir, set(chosen))
    except reports.SeenWritersError as exc:
        raise SystemExit(f"ensemble_choice.py: {exc}") from None
    sets = drawn_sets(chosen)
    angles = sorted({a for r in ROTATION_SETS for a in r})
    loaded = {name: models.load(name, args.models_dir) for name in present}
    rows = []
    for set_name, (images, labels, writers) in sets.items():
        views = {a: turned(images, a) for a in angles}
        readings = {(m, a): loaded[m].predict_proba(views[a]) for m in loaded for a in angles}
        for k in range(1, len(loaded) + 1):
            for members in itertools.combinations(loaded, k):
                for rotations in ROTATION_SETS:
                    probs = np.mean([readings[(m, a)] for m in members for a in rotations], axis=0)
                    right = probs.argmax(1) == labels
                    ece = calibration.expected_calibration_error(probs, labels)
                    worst = per_writer(probs, labels, writers)["worst_writer"]["accuracy"]
                    rows.append((set_name, "+".join(members), rotations, right.mean(), worst, ece))
    print(f"writers {args.writers}: " + ", ".join(f"{s}: {len(sets[s][1])} drawings" for s in sets))
    print("| drawings | members | rotations | accuracy | worst writer | ECE |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in sorted(rows, key=lambda r: (r[0], -r[3])):
        rotations = ", ".join(f"{a:g}" for a in row[2])
        print(f"| {row[0]} | {row[1]} | {rotations} | {row[3]:.2%} | {row[4]:.2%} | {row[5]:.4f} |")


if __name__ == "__main__":
    main()
