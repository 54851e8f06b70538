"""The one training pipeline: fit a network from its config and write its model folder, whole or not at all.

`train.py` (every shipped model), the Train page's runs (job_process.py, on the engine's workers) and teaching go
through `fit_and_write`: it trains through the kind's own trainer (teaching: personal.teaching, which starts the
kinds' trainers from a shipped model), measures the model on MNIST's test digits (and, when asked, on the held-out
writers' drawings) and writes weights, history, report and misread digits with `write_model`, and `report.png`
when asked (train.py: the report to keep beside a shipped model; a run's or a taught model's is drawn on download).
"""

from __future__ import annotations

import io
import os
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_app.contract import TrainingData, TrainingListener, in_chunks
from mnist_app.data import Mnist, heldout, pen_training, pendigits, split_validation, to_float
from mnist_app.models import Model, load
from mnist_app.models.kinds import kind_named
from mnist_app.reports import build_report, misclassified, write_figure, write_reports

MAX_ARCHIVE = 64 * 1024 * 1024  # bytes: a model folder kept in the store, unpacked, is never larger than this


@dataclass(frozen=True)
class Fitted:
    """What a fit left: its history, its report (None when it was stopped before its first epoch ended: nothing
    was written) and its training seconds."""

    history: dict
    report: dict | None
    seconds: float


def training_data(mnist: Mnist, config, digits: int | None, seed: int, workers: int = 0) -> TrainingData:
    """The first `digits` MNIST training digits (all for None), with a seeded validation split carved out of them,
    followed by the config's drawn pen digits (trainable writers only) when it asks for them."""
    images, labels = mnist.x_train[:digits], mnist.y_train[:digits]
    x_train, y_train, x_val, y_val = split_validation(images, labels, config.val_fraction, seed)
    x_train = to_float(x_train)
    if getattr(config, "pen_variants", 0):
        pen, pen_labels, _ = pen_training.cached_drawings(
            config.pen_writers, config.pen_variants, config.seed, workers=workers
        )
        x_train, y_train = np.concatenate([x_train, pen]), np.concatenate([y_train, pen_labels])
    return TrainingData(x_train, y_train, to_float(x_val), y_val)


def fit_and_write(
    config,
    data: TrainingData | None,
    out: Path,
    mnist: Mnist,
    *,
    name: str,
    about: dict,
    load_model: Callable[[str], Model] = load,
    listener: TrainingListener | None = None,
    verbose: int = 0,
    measure_drawn: bool = False,
    state: Path | None = None,
    fit: Fit | None = None,
    save: Callable[[Model, Path], None] | None = None,
    extra: dict | None = None,
    figure: bool = False,
) -> Fitted:
    """Train `config` on `data` (None: a kind that trains nothing itself, an ensemble) and write its model folder
    `out`; `about` says what it trained on, for the report (MNIST test's size is added). `load_model` gives the
    models it starts from or averages. A listener that has `measuring()` hears when training is over. `state`, a
    folder, keeps each finished epoch's training state, and training goes on from the one it holds.

    Teaching brings its own `fit` (personal.teaching: the kinds' trainers, started from a shipped model) and `save`
    (a taught model's folder); by default the kind's trainer fits and its weights file is written. `extra` joins
    the report; `figure` adds report.png."""
    start = time.perf_counter()
    model, history = (fit or _kinds_trainer(name, verbose))(config, data, load_model, listener, state)
    seconds = time.perf_counter() - start
    if model is None:
        return Fitted(history, None, seconds)
    if hasattr(listener, "measuring"):
        listener.measuring()
    probs = in_chunks(model.predict_proba, to_float(mnist.x_test))
    report = build_report(name, config, mnist.y_test, probs, about | {"n_test": len(mnist.x_test)}, seconds)
    if measure_drawn:
        report["drawn"] = drawn_accuracy(model)
    gallery = misclassified(mnist.x_test, mnist.y_test, probs)
    save = save or (lambda model, folder: model.network.save(folder / kind_named(config.kind).weights_file))
    write_model(out, lambda folder: save(model, folder), history, report | (extra or {}), gallery, figure)
    return Fitted(history, report, seconds)


# a fit: (config, data, load_model, listener, state) -> (the model, or None when stopped with nothing to keep; history)
Fit = Callable[..., tuple[Model | None, dict]]


def _kinds_trainer(name: str, verbose: int) -> Fit:
    """The config's kind's own trainer (kinds.py), its network named `name`."""

    def fit(config, data, load_model, listener, state):
        network, history = (
            kind_named(config.kind).code().train_network(config, data, load_model, verbose, listener, state)
        )
        stopped_at_once = data is not None and not history["loss"]
        return (None if stopped_at_once else Model(name, network)), history

    return fit


def write_model(
    out: Path, save: Callable[[Path], None], history: dict, report: dict, gallery: dict, figure: bool = False
) -> None:
    """Write a model folder at `out` whole or not at all: `save(folder)` writes the weights, then the reports (and
    report.png with `figure`); built beside it and renamed into place, replacing what was there."""
    out = Path(out)
    scratch, old = out.with_name(out.name + ".partial"), out.with_name(out.name + ".old")
    for leftover in (scratch, old):
        shutil.rmtree(leftover, ignore_errors=True)
    scratch.mkdir(parents=True)
    save(scratch)
    write_reports(scratch, history, report, gallery)
    if figure:
        write_figure(scratch, history, report)
    if out.exists():
        os.replace(out, old)
    os.replace(scratch, out)
    shutil.rmtree(old, ignore_errors=True)


def drawn_accuracy(model: Model) -> dict | None:
    """Accuracy on the held-out writers' drawings, as the shipped models are measured; None without the pen file."""
    if not pendigits.default_path().is_file():
        return None
    return heldout.accuracy(model.predict_proba)


def zipped(folder: Path, compress: bool = True) -> bytes:
    """Every file under `folder`, by its relative path, in a zip archive (stored as they are without `compress`:
    a training state's weights hardly compress, and a run writes one every epoch)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def unzip(data: bytes, folder: Path) -> None:
    """Unpack an archive written by `zipped`; ValueError for a path that would leave `folder`, or one too large."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if sum(m.file_size for m in members) > MAX_ARCHIVE:
            raise ValueError(f"it unpacks to more than {MAX_ARCHIVE // 2**20} MiB")
        for member in members:
            target = (folder / member.filename).resolve()
            if not target.is_relative_to(folder.resolve()):
                raise ValueError(f"{member.filename!r} would be written outside its folder")
        archive.extractall(folder)
