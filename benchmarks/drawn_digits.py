"""How well do the models read digits drawn on a canvas? (the product's real measure)

Replays ../shared/pendigits (real pen trajectories, 30 writers) as 280 px canvas drawings with
random brush widths (10-30 px), sizes (a third to 85% of the canvas), positions and colour
schemes, sends them through the app's own preprocessing, and reports per model: accuracy,
per-class recall, top confusions, and a picture of the misreads. Only writers held out from
any tuning are reported by default.

    python benchmarks/drawn_digits.py                  # every shipped model, held-out writers
    python benchmarks/drawn_digits.py --writers all --limit 500
    python benchmarks/drawn_digits.py --drawings sqlite:///$HOME/.local/share/mnist-app/drawings.sqlite

With --drawings, the models are measured on the drawings people saved in the app instead (their own labels),
and the results go to benchmarks/results/stored_drawings.json unless --json says otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from mnist_app import models, pendigits, reports
from mnist_app.artifacts import atomic_path, write_json
from mnist_app.metrics import classification_report, top_confusions
from mnist_app.preprocess import canvas_to_mnist

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "models" / "drawn-digits.json"
BASELINES = ("keras-cnn-mnist",)  # MNIST's writing styles only: measured beside the shipped models when present
PICTURE = ROOT / "benchmarks" / "results" / "drawn_digits_misreads.png"
STORED_RESULTS = ROOT / "benchmarks" / "results" / "stored_drawings.json"
STORED_PICTURE = ROOT / "benchmarks" / "results" / "stored_drawings_misreads.png"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--models", nargs="+", help="model names (default: every shipped model, and the MNIST-only baseline, present)"
    )
    parser.add_argument("--writers", default="heldout", choices=("heldout", "tuning", "all"))
    parser.add_argument("--limit", type=int, help="use only the first N digits (quick runs)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the brush, size, position and scheme draws")
    parser.add_argument("--data", help="pendigits-orig.tra (default: $PENDIGITS or ../shared/pendigits)")
    parser.add_argument("--drawings", metavar="URL", help="measure on the drawings saved in this store instead")
    parser.add_argument("--json", type=Path, help=f"where to write the results (default {RESULTS})")
    parser.add_argument("--picture", type=Path, help=f"where to save the misreads picture (default {PICTURE})")
    args = parser.parse_args(argv)
    args.json = args.json or (STORED_RESULTS if args.drawings else RESULTS)
    args.picture = args.picture or (STORED_PICTURE if args.drawings else PICTURE)
    return args


def evaluate(model: models.Model, images: np.ndarray, labels: np.ndarray) -> tuple[dict, np.ndarray]:
    """The model's report on the drawn digits, and its predicted probabilities."""
    probs = np.concatenate([model.predict_proba(images[i : i + 512]) for i in range(0, len(images), 512)])
    report = classification_report(labels, probs.argmax(axis=1))
    report["top_confusions"] = [
        {"true": t, "predicted": p, "count": c} for t, p, c in top_confusions(np.array(report["confusion_matrix"]))
    ]
    return report, probs


def sha256(path: Path) -> str:
    """Fingerprint of the weights measured, so anyone can check the published numbers are the shipped model's."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def trained_on(name: str) -> str:
    """What the model's own report says it was trained on."""
    try:
        return reports.read_report(models.model_dir(name))["data"]["train"]
    except (reports.ReportMissingError, KeyError):
        return "unknown (no report)"


def save_misreads(path: Path, results: dict, images: np.ndarray, labels: np.ndarray, per_model: int = 16) -> None:
    """One row of misread drawings per model, titled 'true -> predicted'."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), per_model, figsize=(per_model * 0.9, len(results) * 1.2), squeeze=False)
    for row, (name, (_, probs)) in enumerate(results.items()):
        wrong = np.flatnonzero(probs.argmax(axis=1) != labels)[:per_model]
        for col, ax in enumerate(axes[row]):
            ax.axis("off")
            if col < len(wrong):
                i = wrong[col]
                ax.imshow(images[i], cmap="gray", vmin=0, vmax=1)
                ax.set_title(f"{labels[i]}→{probs[i].argmax()}", fontsize=8)
        axes[row][0].text(
            -0.3, 0.5, models.label_of(name), transform=axes[row][0].transAxes, ha="right", va="center", fontsize=8
        )
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)


def pen_digits(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, dict]:
    """The pen digits of the chosen writers replayed as canvas drawings and preprocessed; what was used."""
    digits = pendigits.select_writers(pendigits.load(args.data), args.writers)[: args.limit]
    start = time.perf_counter()
    drawings, labels, _ = pendigits.as_canvas_drawings(digits, args.seed)
    images = np.stack([canvas_to_mnist(d) for d in drawings])
    print(
        f"{len(images)} drawings by {len({d.writer for d in digits})} writers ({args.writers}), "
        f"rendered and preprocessed in {time.perf_counter() - start:.0f}s"
    )
    return images, labels, {"writers": args.writers, "n_digits": len(images), "seed": args.seed}


def stored_drawings(url: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """The drawings saved in the app, with the labels their authors gave; what was used."""
    from mnist_app.drawings import DrawingStore, StoreError

    try:
        store = DrawingStore(url)
        drawn = store.dataset()
    except StoreError as exc:
        raise SystemExit(f"drawn_digits.py: {exc}") from None
    if not len(drawn.ids):
        raise SystemExit(f"drawn_digits.py: no drawings are saved in {store.url}")
    used = {"store": store.url, "n_digits": len(drawn.ids), "sessions": len(set(drawn.session_ids.tolist()))}
    used["last_id"] = int(drawn.ids.max())
    print(f"{used['n_digits']} drawings saved in {store.url} ({used['sessions']} sessions)")
    return drawn.images, drawn.labels, {"drawings": used, "n_digits": used["n_digits"]}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    images, labels, used = stored_drawings(args.drawings) if args.drawings else pen_digits(args)
    names = args.models or models.available() + [b for b in BASELINES if models.weights_path(b).is_file()]
    results = {name: evaluate(models.load(name), images, labels) for name in names}
    summary = {**used, "models": {}}
    for name, (report, _) in results.items():
        recall = " ".join(f"{k}:{v['recall']:.2f}" for k, v in report["per_class"].items())
        confusions = ", ".join(f"{c['true']}->{c['predicted']} x{c['count']}" for c in report["top_confusions"])
        print(f"{name:12s} accuracy {report['accuracy']:.4f} | recall {recall} | top confusions {confusions}")
        weights = models.weights_path(name)
        summary["models"][name] = {"trained_on": trained_on(name), "weights_sha256": sha256(weights), **report}
    complete = args.limit is None or args.drawings is not None  # only a full run may stand as the published number
    if complete:
        write_json(args.json, summary)
    save_misreads(args.picture, results, images, labels)
    print(f"results: {args.json if complete else '(not written: --limit)'}; misreads: {args.picture}")


if __name__ == "__main__":
    main()
