"""How well do the models read digits drawn on a canvas, and how honest is their confidence? (the product's measure)

Replays ../shared/pendigits (real pen trajectories, 30 writers) as 280 px canvas drawings with
random brush widths (10-30 px), sizes (a third to 85% of the canvas), positions and colour
schemes, sends them through the app's own preprocessing, and reports per model: accuracy,
per-writer accuracy and the worst writer, the accuracy of the readings it is sure of and the share
it flags unsure (at its calibrated threshold), ECE before and after its temperature, per-class
recall, top confusions, and a picture of the misreads. Writers 21-30, held out from all training and
all choices, are measured by default; only that full run is written to models/drawn-digits.json.

    python benchmarks/drawn_digits.py                  # every shipped model, held-out writers 21-30
    # to choose: the tuning twins (models/tuning), on the writers 16-20 they never trained on
    python benchmarks/drawn_digits.py --writers 16-20 --models-dir models/tuning --json /tmp/choice.json
    python benchmarks/drawn_digits.py --drawings sqlite:///$HOME/.local/share/mnist-app/drawings.sqlite

With --drawings, the models are measured on the drawings people saved in the app instead (their own labels,
per visit rather than per writer), and the results go to benchmarks/results/stored_drawings.json.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from mnist_app import models, reports
from mnist_app.artifacts import atomic_path, write_json
from mnist_app.contract import in_chunks
from mnist_app.data import pendigits
from mnist_app.models import calibration, kinds
from mnist_app.preprocess import canvas_to_mnist
from mnist_app.reports.metrics import classification_report, per_writer, top_confusions

ROOT = Path(__file__).resolve().parent.parent
RESULTS = models.MODELS_DIR / reports.DRAWN_RESULTS
# measured beside the shipped models, when present: the ones they start from (MNIST only) or average
COMPARED = tuple(name for name in kinds.behind(models.SHIPPED) if name not in models.SHIPPED)
RECIPES = {"benchmark": pendigits.as_canvas_drawings, "varied": pendigits.as_varied_drawings}
PICTURE = ROOT / "benchmarks" / "results" / "drawn_digits_misreads.png"
STORED_RESULTS = ROOT / "benchmarks" / "results" / "stored_drawings.json"
STORED_PICTURE = ROOT / "benchmarks" / "results" / "stored_drawings_misreads.png"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--models", nargs="+", help="model names (default: every shipped model, and the MNIST-only baseline, present)"
    )
    parser.add_argument(
        "--writers", default="heldout", type=writers_arg, help="'heldout' (21-30, default), 'tuning' (1-20), or A-B"
    )
    parser.add_argument(
        "--recipe",
        default="benchmark",
        choices=RECIPES,
        help="benchmark: brush 10-30 px, size, position, scheme (default; the published numbers); "
        "varied: the training recipe (brush 6-40 px, slant, aspect, wobble, uneven spacing, stroke order)",
    )
    parser.add_argument(
        "--models-dir", type=Path, default=models.MODELS_DIR, help="where the models are (default: the shipped ones)"
    )
    parser.add_argument("--limit", type=int, help="use only the first N digits (quick runs)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the brush, size, position and scheme draws")
    parser.add_argument("--data", help="pendigits-orig.tra (default: $PENDIGITS or ../shared/pendigits)")
    parser.add_argument("--drawings", metavar="URL", help="measure on the drawings saved in this store instead")
    parser.add_argument("--json", type=Path, help=f"where to write the results (default {RESULTS}, held-out runs only)")
    parser.add_argument("--picture", type=Path, help=f"where to save the misreads picture (default {PICTURE})")
    args = parser.parse_args(argv)
    args.picture = args.picture or (STORED_PICTURE if args.drawings else PICTURE)
    return args


def writers_arg(text: str) -> str | tuple[int, int]:
    """'heldout', 'tuning', 'all', or a range of writer ids 'A-B'."""
    if text in ("heldout", "tuning", "all"):
        return text
    low, _, high = text.partition("-")
    if not (low.isdigit() and high.isdigit()):
        raise argparse.ArgumentTypeError(f"expected heldout, tuning, all or A-B, got {text!r}")
    return int(low), int(high)


def pick_writers(digits: list, which: str | tuple[int, int]) -> list:
    if isinstance(which, tuple):
        return [d for d in digits if which[0] <= d.writer <= which[1]]
    return pendigits.select_writers(digits, which)


def evaluate(
    model: models.Model, images: np.ndarray, labels: np.ndarray, writers: np.ndarray
) -> tuple[dict, np.ndarray]:
    """The model's report on the drawn digits, and its predicted probabilities."""
    probs = in_chunks(model.predict_proba, images, 512)
    report = {**honesty(model, probs, labels), **per_writer(probs, labels, writers)}
    report.update(classification_report(labels, probs.argmax(axis=1)))
    report["top_confusions"] = [
        {"true": t, "predicted": p, "count": c} for t, p, c in top_confusions(np.array(report["confusion_matrix"]))
    ]
    return report, probs


def honesty(model: models.Model, probs: np.ndarray, labels: np.ndarray) -> dict:
    """Sure-reading accuracy and the share flagged at the model's threshold; ECE with and without its temperature."""
    raw = calibration.tempered(probs, 1 / model.temperature)  # undoes the temperature: softmax(T log p / T) = p
    return {
        **calibration.sure_summary(probs, labels, model.unsure_below),
        "unsure_below": model.unsure_below,
        "temperature": model.temperature,
        "ece_before": calibration.expected_calibration_error(raw, labels),
        "ece_after": calibration.expected_calibration_error(probs, labels),
    }


def sha256(path: Path) -> str:
    """Fingerprint of the weights measured, so anyone can check the published numbers are the shipped model's."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def trained_on(name: str, directory: Path) -> str:
    """What the model's own report says it was trained on."""
    try:
        return reports.read_report(models.model_dir(name, directory))["data"]["train"]
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


def pen_digits(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """The chosen writers' pen digits replayed as canvas drawings and preprocessed; their writers; what was used."""
    digits = pick_writers(pendigits.load(args.data), args.writers)[: args.limit]
    start = time.perf_counter()
    drawings, labels, _ = RECIPES[args.recipe](digits, args.seed)
    images = np.stack([canvas_to_mnist(d) for d in drawings])
    print(
        f"{len(images)} drawings by {len({d.writer for d in digits})} writers ({args.writers}), "
        f"rendered and preprocessed in {time.perf_counter() - start:.0f}s"
    )
    label = args.writers if isinstance(args.writers, str) else f"{args.writers[0]}-{args.writers[1]}"
    used = {"writers": label, "recipe": args.recipe, "n_digits": len(images), "seed": args.seed}
    return images, labels, np.array([d.writer for d in digits]), used


def stored_drawings(url: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """The drawings saved in the app, with the labels their authors gave, and their visits; what was used."""
    from mnist_app.store.drawings import DrawingStore, StoreError

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
    return drawn.images, drawn.labels, drawn.session_ids, {"drawings": used, "n_digits": used["n_digits"]}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    images, labels, writers, used = stored_drawings(args.drawings) if args.drawings else pen_digits(args)
    here = args.models_dir
    names = args.models or models.available(here) + [c for c in COMPARED if models.weights_path(c, here).is_file()]
    if not args.drawings:
        try:
            reports.refuse_seen_writers(names, here, set(writers.tolist()))
        except reports.SeenWritersError as exc:
            raise SystemExit(f"drawn_digits.py: {exc}") from None
    results = {name: evaluate(models.load(name, here), images, labels, writers) for name in names}
    summary = {**used, "models": {}}
    for name, (report, _) in results.items():
        print_model(name, report)
        weights = models.weights_path(name, here)
        summary["models"][name] = {"trained_on": trained_on(name, here), "weights_sha256": sha256(weights), **report}
    print_table(summary["models"])
    # only a full run of every shipped model on the held-out writers may stand as the published number
    full = args.models is None and args.limit is None and here == models.MODELS_DIR
    published = full and args.writers == "heldout" and args.recipe == "benchmark"
    target = args.json or (STORED_RESULTS if args.drawings else RESULTS if published else None)
    if target:
        write_json(target, summary)
    save_misreads(args.picture, results, images, labels)
    print(f"results: {target or '(not written: pass --json)'}; misreads: {args.picture}")


def print_model(name: str, report: dict) -> None:
    recall = " ".join(f"{k}:{v['recall']:.2f}" for k, v in report["per_class"].items())
    confusions = ", ".join(f"{c['true']}->{c['predicted']} x{c['count']}" for c in report["top_confusions"])
    writers = " ".join(f"{w}:{a:.3f}" for w, a in report["per_writer"].items())
    print(f"{name:12s} accuracy {report['accuracy']:.4f} | recall {recall} | top confusions {confusions}")
    print(f"{'':12s} per writer {writers}")


def print_table(results: dict) -> None:
    """One line per model: the numbers issue 12 sets goals for."""
    print("| model | drawn | worst writer | sure readings right | flagged unsure | ECE before -> after |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        worst = r["worst_writer"]
        print(
            f"| {name} | {r['accuracy']:.2%} | {worst['accuracy']:.2%} (writer {worst['writer']}) | "
            f"{r['sure_accuracy']:.2%} | {r['flagged']:.2%} | {r['ece_before']:.4f} -> {r['ece_after']:.4f} |"
        )


if __name__ == "__main__":
    main()
