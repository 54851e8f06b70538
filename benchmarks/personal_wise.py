"""Round 10 (issue 26): teach harder, then keep the taught weights near the shipped ones. Chosen on the tuning twins
with writers 16-20 as the people (never 21-30).

    python benchmarks/personal_wise.py cache      # teach each twin each writer's drawings once per fine-tune
    python benchmarks/personal_wise.py choose     # every candidate scored from the kept readings; the rule picks one

Round 7's fine-tune fixed few of the held-out writers' misreadings, and teaching harder (a higher rate, more epochs)
forgot more of MNIST than the goal allows. WiSE-FT (Wortsman et al., 2022) moves the weights only part of the way
from the shipped network's to the fine-tuned ones (personal.Recipe.share; each kind's `between`): a network taught
hard and moved half-way may keep more of the gain than it keeps of the forgetting. Each twin that trains itself is
fine-tuned once per writer and recipe (FINE_TUNES); every share in SHARES is made from it by moving the weights, and
the ensemble is assembled from its members moved alike, as personal.fine_tune does. Every candidate is scored with
and without Round 9's blend of the taught drawings (personal.RECIPE.blend). Forgetting is measured on MNIST's last
5,000 training digits, which replay never draws.

The rule, fixed before any candidate was scored (Round 9's): of the candidates that make no writer of 16-20 worse for
any of the four models and cost every model at most 0.3 points of MNIST, the one with the lowest error ratio for the
ensemble (the best model); ties (to 3 decimals) go to the lowest mean error ratio over the four models, then to the
smallest largest MNIST drop, then to the earlier in CANDIDATES' order, whose first is the shipped recipe
(personal.RECIPE): it is replaced only by a candidate that beats it by this rule.
Writes benchmarks/results/personal-wise-choice.json.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from mnist_app import models, personal
from mnist_app.artifacts import write_json
from mnist_app.data import load_mnist, to_float
from mnist_app.ensemble import Ensemble
from mnist_app.kinds import kind_of

from personal_blend import FINE_TUNE, NAMES, meets_the_rule, readings, score, show, stages, writer_data

RESULTS = Path(__file__).resolve().parent / "results"
CACHES = Path(os.environ.get("MNIST_APP_CACHE", "/tmp"))  # each round keeps its readings in a folder of its own here
FINE_TUNES = {  # the first is the shipped fine-tune (personal.RECIPE without its blend)
    "3 epochs at 2e-4": FINE_TUNE,
    "3 epochs at 5e-4": replace(FINE_TUNE, learning_rate=5e-4),
    "3 epochs at 1e-3": replace(FINE_TUNE, learning_rate=1e-3),
    "6 epochs at 5e-4": replace(FINE_TUNE, epochs=6, learning_rate=5e-4),
}
SHARES = (1.0, 0.75, 0.5)


def candidates(fine_tunes: dict, shares) -> list[tuple[str, float, bool]]:
    """(fine-tune, share, blended): each fine-tune in order, at each share, with the blend and then without; the first
    is personal.RECIPE when the first fine-tune is the shipped one."""
    return list(itertools.product(fine_tunes, shares, (True, False)))


CANDIDATES = candidates(FINE_TUNES, SHARES)


def tag(tune: str, share: float) -> str:
    return f"{tune}, share {share:g}"


def cache(writers, fine_tunes: dict, shares, cache_dir: Path) -> None:
    """Per writer: the twins' readings of its measured drawings and of MNIST's last 5,000 training digits, shipped
    and taught by every fine-tune moved by every share (kept in cache_dir)."""
    mnist = load_mnist()
    val = to_float(mnist.x_train[personal.REPLAY_POOL :])
    directory = models.twins_dir()
    ensemble = models.load("ensemble", directory)
    trained = sorted({n for n in NAMES if n != "ensemble"} | set(ensemble.network.config.members))
    shipped = {name: models.load(name, directory) for name in trained}
    for writer in writers:
        xt, yt, xm, ym = writer_data(writer)
        out, seconds = {}, {}
        for name in NAMES:
            base = ensemble if name == "ensemble" else shipped[name]
            out[f"{name}/base/measured"], out[f"{name}/base/mnist"] = base.predict_proba(xm), base.predict_proba(val)
        for tune, recipe in fine_tunes.items():
            taught = {}
            for name in trained:
                start = time.perf_counter()
                taught[name] = personal.fine_tune(name, xt, yt, recipe, directory, mnist)
                seconds[f"{tune}/{name}"] = time.perf_counter() - start
            for share in shares:
                moved = {
                    n: replace(t, network=kind_of(n).code().between(shipped[n].network, t.network, share))
                    for n, t in taught.items()
                }
                members = [moved[m] for m in ensemble.network.config.members]
                moved["ensemble"] = replace(ensemble, network=Ensemble(members, ensemble.network.config))
                for name in NAMES:
                    out[f"{name}/{tag(tune, share)}/measured"] = moved[name].predict_proba(xm)
                    out[f"{name}/{tag(tune, share)}/mnist"] = moved[name].predict_proba(val)
            took = sum(v for k, v in seconds.items() if k.startswith(tune))
            print(f"writer {writer}, {tune}: taught in {took:.0f} s", flush=True)
        np.savez_compressed(cache_dir / f"writer{writer}.npz", **out)
        write_json(cache_dir / f"writer{writer}-seconds.json", seconds)


def choose(writers, candidates: list, cache_dir: Path, results: str) -> None:
    """Every candidate (fine-tune, share, blended) scored from the readings in cache_dir; the rule above picks one,
    and results (in benchmarks/results/) keeps them all."""
    data = readings(writers, cache_dir, [personal.RECIPE.blend.blur])
    label = lambda c: f"{tag(c[0], c[1])}{', blended' if c[2] else ''}"  # noqa: E731
    out = {
        label(c): {name: score(data, name, tag(c[0], c[1]), personal.RECIPE.blend if c[2] else None) for name in NAMES}
        for c in candidates
    }
    eligible = [lb for lb, by in out.items() if meets_the_rule(by)]
    order = list(out)
    key = lambda lb: (  # noqa: E731
        round(out[lb]["ensemble"]["error_ratio"], 3),
        round(np.mean([s["error_ratio"] for s in out[lb].values()]), 3),
        round(max(s["mnist_drop_max_points"] for s in out[lb].values()), 6),
        order.index(lb),
    )
    chosen = min(eligible, key=key) if eligible else None
    show(out, eligible, chosen)
    write_json(RESULTS / results, {"writers": writers, "chosen": chosen, "candidates": out})


def run_round(doc: str, folder: str, fine_tunes: dict, results: str, shares=(1.0,)) -> None:
    """A round's command line: its fine-tunes (the first the shipped one) at these shares, each scored with and
    without the blend, taught into MNIST_APP_CACHE/folder and chosen by the rule above into benchmarks/results/."""
    cache_dir = CACHES / folder
    teach = partial(cache, fine_tunes=fine_tunes, shares=shares, cache_dir=cache_dir)
    pick = partial(choose, candidates=candidates(fine_tunes, shares), cache_dir=cache_dir, results=results)
    stages(doc, cache_dir, teach, pick)


if __name__ == "__main__":
    run_round(__doc__, "round10", FINE_TUNES, "personal-wise-choice.json", SHARES)
