"""Teach your handwriting: how much does a shipped model gain from 30 of one person's drawings, what does it forget,
and how long does teaching take? Each held-out pen writer (21-30) is one person: they teach the first 3 drawings of
each digit (30), and the rest of their drawings (about 220) measure it, before and after; forgetting is measured on
MNIST's test digits. The drawings are the benchmark recipe's (mnist_app/data/heldout.py, as benchmarks/drawn_digits.py
draws them); the recipe is mnist_app/training/personal.py's RECIPE, replaying the shipped MNIST digits (load_replay).

    python benchmarks/personal.py --curve                      # every shipped model, and the learning curve
    python benchmarks/personal.py --models numpy-mlp keras-mlp  # some of them
    python benchmarks/personal.py --job                        # the app's whole Teach job, as a person waits for it

Writes benchmarks/results/personal.json, or personal-job.json with --job (or --json). The recipe was chosen on
writers 16-20 through the tuning twins (docs/experiments.md, Rounds 7-12; the code that chose it is at commit
a511d6c), never on these writers.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from mnist_app import models
from mnist_app.artifacts import write_json
from mnist_app.data import heldout, load_mnist, to_float
from mnist_app.training import jobs as training_jobs
from mnist_app.training import personal

RESULTS = Path(__file__).resolve().parent / "results"
TAUGHT_PER_DIGIT = 3
CURVE = (1, 2, 3, 5)  # drawings per digit taught: 10, 20, 30 and 50
JOB_WRITER = 21  # --job: whose drawings the timed Teach jobs are


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(models.SHIPPED), help="which models (default: shipped)")
    parser.add_argument("--curve", action="store_true", help="also the learning curve (10, 20, 30, 50 drawings)")
    parser.add_argument(
        "--json", type=Path, help="where to write the results (default: benchmarks/results/personal.json)"
    )
    parser.add_argument("--test-digits", type=int, default=10_000, help="MNIST test digits measuring forgetting")
    parser.add_argument(
        "--job", action="store_true", help=f"instead, time the app's Teach job on writer {JOB_WRITER}'s 30 drawings"
    )
    return parser.parse_args(argv)


def machine() -> str:
    """The machine the times were measured on: its CPU model and how many cores this process may use."""
    cpuinfo = Path("/proc/cpuinfo")
    names = [
        line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
    ]
    cpu = names[0] if names else platform.processor() or platform.machine()
    return f"{cpu}, {len(os.sched_getaffinity(0))} cores, {platform.system()}"


def split(labels: np.ndarray, per_digit: int, skip: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(taught, measured) indices of one writer's drawings: the first `per_digit` of each digit are taught; those
    after the first `skip` (default: the taught ones) of each digit measure."""
    seen = np.zeros(10, dtype=int)
    rank = np.empty(len(labels), dtype=int)
    for i, label in enumerate(labels):
        rank[i], seen[label] = seen[label], seen[label] + 1
    return np.flatnonzero(rank < per_digit), np.flatnonzero(rank >= (skip or per_digit))


def accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(model.predict_proba(images).argmax(axis=1) == labels))


def one_writer(name, directory, images, labels, recipe, test, curve: bool) -> dict:
    """Before and after for one writer and one model: their drawings, MNIST test, the time it took."""
    base = models.load(name, directory)
    taught, measured = split(labels, TAUGHT_PER_DIGIT)
    start = time.perf_counter()
    model = personal.fine_tune(name, images[taught], labels[taught], recipe, directory)
    seconds = time.perf_counter() - start
    row = {
        "taught": len(taught),
        "measured": len(measured),
        "before": accuracy(base, images[measured], labels[measured]),
        "after": accuracy(model, images[measured], labels[measured]),
        "seconds": seconds,
        "mnist_before": accuracy(base, *test),
        "mnist_after": accuracy(model, *test),
    }
    before, after = (base.predict_proba(images[measured]).argmax(1), model.predict_proba(images[measured]).argmax(1))
    truth = labels[measured]
    row["digits_changed"] = {
        str(d): [int(np.sum((before == truth)[truth == d])), int(np.sum((after == truth)[truth == d]))]
        for d in range(10)
    }
    if curve:  # a measure set shared by every point: the drawings after the first 5 of each digit
        _, common = split(labels, max(CURVE))
        row["curve"] = {}
        for k in CURVE:
            few, _ = split(labels, k)
            taught_k = personal.fine_tune(name, images[few], labels[few], recipe, directory)
            row["curve"][str(len(few))] = accuracy(taught_k, images[common], labels[common])
        row["curve"]["0"] = accuracy(base, images[common], labels[common])
    return row


def summarise(rows: dict[int, dict]) -> dict:
    before = np.array([r["before"] for r in rows.values()])
    after = np.array([r["after"] for r in rows.values()])
    mnist_drop = [r["mnist_before"] - r["mnist_after"] for r in rows.values()]
    out = {
        "mean_before": float(before.mean()),
        "mean_after": float(after.mean()),
        "worst_before": float(before.min()),
        "worst_after": float(after.min()),
        "error_ratio": float((1 - after.mean()) / max(1e-9, 1 - before.mean())),
        "writers_worse": [w for w, r in rows.items() if r["after"] < r["before"]],
        "mnist_drop_max_points": 100 * float(max(mnist_drop)),
        "seconds_median": float(np.median([r["seconds"] for r in rows.values()])),
        "seconds_max": float(max(r["seconds"] for r in rows.values())),
    }
    if all("curve" in r for r in rows.values()):
        points = next(iter(rows.values()))["curve"]
        out["curve"] = {k: float(np.mean([r["curve"][k] for r in rows.values()])) for k in points}
    return out


def measure(names, directory, which, writers, recipe, test, curve) -> dict:
    images, labels, writer_of = heldout.drawn_by(which)
    results = {}
    for name in names:
        rows = {}
        for writer in writers:
            mine = writer_of == writer
            rows[int(writer)] = one_writer(name, directory, images[mine], labels[mine], recipe, test, curve)
            print(
                f"{name} writer {writer}: {rows[int(writer)]['before']:.3f} -> {rows[int(writer)]['after']:.3f}, "
                f"{rows[int(writer)]['seconds']:.1f} s",
                flush=True,
            )
        results[name] = {"summary": summarise(rows), "writers": rows}
        print(name, results[name]["summary"], flush=True)
    return results


def teach_jobs(names, writer: int) -> dict:
    """The app's Teach timed as a person waits for it, from the click to its end: the writer's 30 drawings queued as
    a teaching job (its own niced, one-thread process: imports, a first teaching read on a third of the drawings and
    2,000 MNIST test digits, then every drawing taught, and the model saved; job_process.teach)."""
    images, labels, writer_of = heldout.drawn_by("heldout")
    images, labels = images[writer_of == writer], labels[writer_of == writer]
    taught, _ = split(labels, TAUGHT_PER_DIGIT)
    out = {}
    with tempfile.TemporaryDirectory() as root:
        for name in names:
            start = time.perf_counter()
            job = training_jobs.submit_teach(name, images[taught], labels[taught], "benchmark", root=Path(root))
            while (job := training_jobs.read(job)).status in (training_jobs.QUEUED, training_jobs.RUNNING):
                time.sleep(0.1)
            out[name] = {"seconds": time.perf_counter() - start, "status": job.status, "message": job.message}
            print(name, out[name], flush=True)
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.job:
        out = {"writer": JOB_WRITER, "machine": machine(), "jobs": teach_jobs(args.models, JOB_WRITER)}
        write_json(args.json or RESULTS / "personal-job.json", out)
        return
    mnist = load_mnist()
    test = (to_float(mnist.x_test[: args.test_digits]), mnist.y_test[: args.test_digits])
    recipe = personal.RECIPE
    writers = sorted(set(heldout.drawn_by("heldout")[2].tolist()))
    out = {"writers": writers, "recipe": asdict(recipe), "test_digits": len(test[1]), "machine": machine()}
    out |= measure(args.models, models.MODELS_DIR, "heldout", writers, recipe, test, args.curve)
    write_json(args.json or RESULTS / "personal.json", out)


if __name__ == "__main__":
    main()
