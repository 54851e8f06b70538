"""Round 9 (issue 26): blend a nearest-neighbour vote of the person's own drawings into a model's probabilities,
with or without the fine-tune. Chosen on the tuning twins with writers 16-20 as the people (never 21-30).

    python benchmarks/personal_blend.py cache      # fine-tune each twin once per writer, keep its readings
    python benchmarks/personal_blend.py choose     # every candidate blend, scored from the kept readings

Teaching each twin once per writer and keeping its probabilities (of the writer's measured and taught drawings,
and of MNIST's last 5,000 training digits) lets every blend be scored without teaching again: the blend only
reads the probabilities and the drawings. Writes benchmarks/results/personal-blend-choice.json.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from mnist_app import heldout, models, pen_training, personal, prototypes
from mnist_app.artifacts import write_json
from mnist_app.data import load_mnist, to_float

RESULTS = Path(__file__).resolve().parent / "results"
CACHE = Path(os.environ.get("MNIST_APP_CACHE", "/tmp")) / "round9"
NAMES = ("numpy-mlp", "keras-mlp", "keras-cnn", "ensemble")
TAUGHT = ("numpy-mlp", "keras-cnn", "ensemble")  # the ensemble's taught members include keras-mlp, taught alike
TAUGHT_PER_DIGIT = 3
# the fine-tune the blends are scored on: the shipped recipe without the blend this round chose (Round 7's fine-tune)
FINE_TUNE = replace(personal.RECIPE, blend=None)


def split(labels: np.ndarray, per_digit: int) -> tuple[np.ndarray, np.ndarray]:
    """(taught, measured): the first `per_digit` drawings of each digit, and the rest (benchmarks/personal.py's)."""
    seen, rank = np.zeros(10, dtype=int), np.empty(len(labels), dtype=int)
    for i, label in enumerate(labels):
        rank[i], seen[label] = seen[label], seen[label] + 1
    return np.flatnonzero(rank < per_digit), np.flatnonzero(rank >= per_digit)


def writer_data(writer: int):
    images, labels, writers = heldout.drawn_by("tuning")
    mine = writers == writer
    images, labels = images[mine], labels[mine]
    taught, measured = split(labels, TAUGHT_PER_DIGIT)
    return images[taught], labels[taught], images[measured], labels[measured]


def cache(writers) -> None:
    """Teach each twin each writer's drawings once (FINE_TUNE); keep every reading the blends need."""
    mnist = load_mnist()
    val = to_float(mnist.x_train[personal.REPLAY_POOL :])
    directory = models.twins_dir()
    for writer in writers:
        xt, yt, xm, ym = writer_data(writer)
        out, seconds = {}, {}
        taught_models = {}
        for name in TAUGHT:
            start = time.perf_counter()
            taught_models[name] = personal.fine_tune(name, xt, yt, FINE_TUNE, directory, mnist)
            seconds[name] = time.perf_counter() - start
        taught_models["keras-mlp"] = next(m for m in taught_models["ensemble"].network.members if m.name == "keras-mlp")
        for name in NAMES:
            base = models.load(name, directory)
            for tag, model in (("base", base), ("tuned", taught_models[name])):
                for part, x in (("measured", xm), ("taught", xt), ("mnist", val)):
                    out[f"{name}/{tag}/{part}"] = model.predict_proba(x)
            print(f"writer {writer} {name}: {seconds.get(name, 0):.1f} s", flush=True)
        np.savez_compressed(CACHE / f"writer{writer}.npz", **out)
        write_json(CACHE / f"writer{writer}-seconds.json", seconds)


GRID = {  # every blend tried, with and without the fine-tune
    f"k{k} w{w} reach{r} blur{b}": prototypes.Blend(k, w, r, b)
    for k, w, r, b in itertools.product((1, 3), (0.3, 0.6, 0.9), (0.5, 1.0, 1.5, 2.0), (0.0, 1.0))
}


def raw(tempered: np.ndarray, temperature: float) -> np.ndarray:
    """Undo calibration.tempered: the network's own probabilities, which the taught model blends before tempering."""
    logits = temperature * np.log(np.clip(tempered, 1e-300, 1.0))
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def readings(writers, cache_dir: Path = CACHE, blurs=None) -> dict:
    """Per writer: its drawings' features per blur (default: every blur of GRID), and each model's raw probabilities
    (kept in cache_dir by a round's `cache`)."""
    mnist = load_mnist()
    val_x, val_y = to_float(mnist.x_train[personal.REPLAY_POOL :]), mnist.y_train[personal.REPLAY_POOL :]
    temps = {name: models.load(name, models.twins_dir()).temperature for name in NAMES}
    blurs = sorted({b.blur for b in GRID.values()}) if blurs is None else blurs
    out = {"mnist_y": val_y, "mnist_f": {b: prototypes.features(val_x, b) for b in blurs}, "writers": {}}
    for writer in writers:
        xt, yt, xm, ym = writer_data(writer)
        with np.load(cache_dir / f"writer{writer}.npz") as npz:
            probs = {key: raw(npz[key], temps[key.split("/")[0]]) for key in npz.files}
        feats = {b: (prototypes.features(xt, b), prototypes.features(xm, b)) for b in blurs}
        out["writers"][writer] = {"yt": yt, "ym": ym, "probs": probs, "feats": feats}
    return out


def score(data: dict, name: str, tag: str, blend) -> dict:
    """One model's summary over the writers for one candidate: accuracy before and after each, MNIST drop. `tag`:
    which kept readings are the candidate's ("base" the shipped model's, "tuned" the fine-tuned one's)."""
    rows = {}
    for writer, w in data["writers"].items():
        before = w["probs"][f"{name}/base/measured"]
        after = w["probs"][f"{name}/{tag}/measured"]
        mnist = w["probs"][f"{name}/{tag}/mnist"]
        if blend is not None:
            taught, measured = w["feats"][blend.blur]
            after = prototypes.blended(after, measured, taught, w["yt"], blend)
            mnist = prototypes.blended(mnist, data["mnist_f"][blend.blur], taught, w["yt"], blend)
        right = lambda p, y: float(np.mean(p.argmax(1) == y))  # noqa: E731
        mnist_before = right(w["probs"][f"{name}/base/mnist"], data["mnist_y"])
        rows[writer] = (right(before, w["ym"]), right(after, w["ym"]), mnist_before - right(mnist, data["mnist_y"]))
    before, after, drop = (np.array(col) for col in zip(*rows.values(), strict=True))
    return {
        "before": before.round(4).tolist(),
        "after": after.round(4).tolist(),
        "error_ratio": float((1 - after.mean()) / max(1e-9, 1 - before.mean())),
        "worst_after": float(after.min()),
        "writers_worse": [wr for wr, (b, a, _) in rows.items() if a < b],
        "mnist_drop_max_points": 100 * float(drop.max()),
    }


def choose(writers) -> None:
    """Score every candidate on every model; the Round 9 rule (docs/experiments.md) picks one."""
    data = readings(writers)
    candidates = {"fine-tune alone": ("tuned", None)}
    candidates |= {f"blend alone, {key}": ("base", b) for key, b in GRID.items()}
    candidates |= {f"fine-tune + blend, {key}": ("tuned", b) for key, b in GRID.items()}
    out = {label: {name: score(data, name, *c) for name in NAMES} for label, c in candidates.items()}
    eligible = [label for label, by in out.items() if meets_the_rule(by)]
    key = lambda label: (  # noqa: E731
        round(out[label]["ensemble"]["error_ratio"], 3),
        round(np.mean([s["error_ratio"] for s in out[label].values()]), 3),
        label.startswith("fine-tune"),
        candidates[label][1].weight if candidates[label][1] else 0,
    )
    chosen = min(eligible, key=key) if eligible else None
    show(out, eligible, chosen)
    write_json(RESULTS / "personal-blend-choice.json", {"writers": writers, "chosen": chosen, "candidates": out})


def meets_the_rule(by_model: dict) -> bool:
    """No writer worse for any model, and every model's MNIST drop at most 0.3 points (rounded: 15 of 5,000 digits is
    0.3 points, which floating point makes 0.30000000000000004)."""
    return all(not s["writers_worse"] and round(s["mnist_drop_max_points"], 6) <= 0.3 for s in by_model.values())


def show(out: dict, eligible: list[str], chosen: str | None) -> None:
    """Every candidate, best ensemble first: * chosen, + meeting the rule."""
    for label in sorted(out, key=lambda lb: out[lb]["ensemble"]["error_ratio"]):
        line = ", ".join(
            f"{n} {s['error_ratio']:.2f} worst {s['worst_after']:.3f} drop {s['mnist_drop_max_points']:.2f}"
            f"{' worse ' + str(s['writers_worse']) if s['writers_worse'] else ''}"
            for n, s in out[label].items()
        )
        print(f"{'*' if label == chosen else ('+' if label in eligible else ' ')} {label}: {line}")
    print("chosen:", chosen)


def stages(doc: str, cache_dir: Path, cache, choose, argv=None) -> None:
    """A round's command line: `cache` teaches and keeps readings in cache_dir, `choose` scores them (writers 16-20)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=["cache", "choose"])
    args = parser.parse_args(argv)
    writers = personal.check_tuning_writers(pen_training.CALIBRATION_WRITERS)
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache if args.stage == "cache" else choose)(writers)


if __name__ == "__main__":
    stages(__doc__, CACHE, cache, choose)
