"""A training run on an engine's worker: trains (or teaches) one run of the store and writes its progress, end and
model into the run's record (jobs.py). `run_task` is the function the engine runs; it needs only the store's URL.
"""

from __future__ import annotations

import ctypes
import os
import tempfile
import time
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from mnist_app.contract import HISTORY_KEYS, TrainingListener, empty_history
from mnist_app.data import pen_training
from mnist_app.models import ModelLoadError, load
from mnist_app.store.schema import TRAINING_RUNS
from mnist_app.training import jobs, pipeline
from mnist_app.training.engine import ONE_THREAD
from mnist_app.training.jobs import FAILED, FINISHED, STOPPED, TEACH, TEACH_TEST_DIGITS, Job
from mnist_app.training.settings import SettingsError, max_memory_mb, max_minutes

PROGRESS_EVERY_S = 0.5  # the run's progress is rewritten at most this often (and its stop flag read)
PACE_S = 10.0  # the time left goes at the pace of the last this many seconds of training
NICE = 10  # below the app server, which keeps answering the Draw page first
TRACE_POINTS = 600  # the live curve keeps at most this many points, thinned evenly
CHECKPOINT_EVERY_S = 2.0  # an epoch's training state goes into the record at most this often (a 1.6 MB write)


class JobListener(TrainingListener):
    """Writes the run's progress (and, every few seconds, its last epoch's training state) into its record, and turns
    Stop, the time limit and the memory limit into a stop."""

    def __init__(self, job: Job, epochs: int, digits: int, minutes: float, state: Path | None = None):
        self.job, self.epochs, self.digits, self.state_folder = job, epochs, digits, state
        self.start, self.deadline = None, time.monotonic() + 60 * minutes
        self.minutes, self.reason, self.last_write, self.stop_asked = minutes, "", 0.0, False
        self.memory_mb, self.most_mb = max_memory_mb(), 0.0  # the limit, and the most the worker held at a write
        self.history, self.trace, self.last_checkpoint = empty_history(), [], -CHECKPOINT_EVERY_S
        saved = job.progress.get("saved_epochs", 0) if state is not None else 0
        if saved:  # going on from the last attempt's checkpoint, with the history and curve it had then
            self.history = {key: values[:saved] for key, values in job.progress["history"].items()}
            self.trace = [point for point in job.progress.get("trace", []) if point[0] <= saved]
        self.marks: deque[tuple[float, int]] = deque()  # (when, batches done) at each write of the last PACE_S
        self.last_batch_at, self.validation_s = 0.0, 0.0  # when the last batch ended; the last validation's seconds
        self.state = {"phase": "preparing", "epoch": 0, "epochs": epochs, "done": 0, "batches": 1}

    def on_batch(self, epoch: int, done: int, batches: int, loss: float, accuracy: float) -> None:
        if self.start is None:  # speed and time left count training alone, not loading data or TensorFlow
            self.start, self.state["phase"] = time.monotonic() - 1e-3, "training"
            self.marks.append((time.monotonic(), epoch * batches + done))
        self.last_batch_at = time.monotonic()
        self.state |= {"epoch": epoch, "done": done, "batches": batches, "loss": loss, "accuracy": accuracy}
        if time.monotonic() - self.last_write >= PROGRESS_EVERY_S or done == batches:
            self.trace.append([round(epoch + done / batches, 4), loss, accuracy])
            self.write()

    def on_epoch(self, epoch: int, scores: dict[str, float]) -> None:
        now = time.monotonic()  # the epoch's validation ran since its last batch: timed apart from the training
        self.validation_s = now - self.last_batch_at
        self.marks = deque((when + self.validation_s, done) for when, done in self.marks)  # training time alone
        for key in HISTORY_KEYS:
            self.history[key].append(scores[key])
        if self.state_folder is None or now - self.last_checkpoint < CHECKPOINT_EVERY_S:
            self.write()
            return
        # the trainer saved this epoch's state before we heard it: the state and its epoch are written together
        self.last_checkpoint, self.state["saved_epochs"] = now, len(self.history["loss"])
        self.write(checkpoint=pipeline.zipped(self.state_folder, compress=False))

    def seconds_left(self, now: float, batches_done: int, total: int) -> float | None:
        """The batches left at the pace of the last PACE_S of training, and each epoch's validation as long as the
        last one: a slow moment or a validation moves the time left a little, never makes it jump. None until a
        pace is measured."""
        self.marks.append((now, batches_done))
        while len(self.marks) > 2 and now - self.marks[1][0] >= PACE_S:
            self.marks.popleft()
        (first_time, first_done), validations_left = self.marks[0], self.epochs - len(self.history["loss"])
        if batches_done <= first_done:
            return None
        pace = (now - first_time) / (batches_done - first_done)
        return round(pace * max(0, total - batches_done) + self.validation_s * validations_left, 1)

    def measuring(self) -> None:
        self.write(phase="measuring")

    def stop_requested(self) -> bool:
        if not self.reason:
            if self.stop_asked:
                self.reason = "stopped by you"
            elif time.monotonic() > self.deadline:
                self.reason = f"stopped at the time limit of {self.minutes:g} minutes per run"
            elif self.most_mb > self.memory_mb:
                self.reason = (
                    f"stopped at the memory limit of {self.memory_mb:g} MB per run (it held {self.most_mb:.0f})"
                )
        return bool(self.reason)

    def write(self, checkpoint: bytes | None = None, **extra) -> None:
        now = time.monotonic()
        elapsed = now - (self.start or now)
        batches_done = self.state["epoch"] * self.state["batches"] + self.state["done"]
        total = self.epochs * self.state["batches"]
        if len(self.trace) > TRACE_POINTS:
            self.trace = self.trace[::2]
        self.state |= {
            "elapsed_s": round(elapsed, 2),
            "digits_per_s": round(self.digits * batches_done / self.state["batches"] / max(elapsed, 1e-6)),
            "eta_s": self.seconds_left(now, batches_done, total),
            "trace": self.trace,
            "history": self.history,
            **extra,
        }
        self.most_mb = max(self.most_mb, resident_mb())
        self.state["memory_mb"] = round(self.most_mb)
        saved = {"checkpoint": checkpoint} if checkpoint else {}
        self.stop_asked = _write(self.job, progress=self.state, **saved) or self.stop_asked
        self.last_write = time.monotonic()


def resident_mb() -> float:
    """This process's resident memory now, in MB (0 where /proc is not there)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def run_task(url: str, run_id: str, drawings: tuple | None = None, env: dict | None = None) -> str:
    """The engine's task: do run `run_id` of the store at `url` (`drawings`: a teaching's images and labels) and
    write its end and model into its record; returns how it ended. A retry (its worker died) goes on from the last
    epoch the run finished, whose training state its record keeps."""
    _hold_to_one_core()
    allocate_as_a_lone_process()
    for name, value in (env or {}).items():  # the embedded engine's: the app's settings as they are now
        os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
    job = jobs.read(run_id, url, reap=False)  # a run queued long ago is not lost: it is here
    if job.status not in (jobs.QUEUED, jobs.RUNNING):  # stopped while it waited
        return job.status
    checkpoint = _checkpoint(job)
    progress = job.progress if checkpoint else {}
    _write(job, status=jobs.RUNNING, started_at=datetime.now(UTC), attempt=job.attempt + 1, progress=progress)
    with tempfile.TemporaryDirectory(prefix="mnist-app-run-") as scratch:
        folder, state = Path(scratch) / "model", Path(scratch) / "state"
        state.mkdir()
        if checkpoint:
            pipeline.unzip(checkpoint, state)
        try:
            status, message = teach(job, folder, *drawings) if job.task == TEACH else train(job, folder, state)
        except (SettingsError, ModelLoadError, ValueError, OSError, MemoryError) as exc:
            status, message = FAILED, str(exc)
        except Exception as exc:  # any other failure still ends the run, with what went wrong
            status, message = FAILED, f"{type(exc).__name__}: {exc}"
        archive = pipeline.zipped(folder) if (folder / "report.json").is_file() else None
        _write(job, status=status, message=message, ended_at=datetime.now(UTC), archive=archive, checkpoint=None)
    return status


def _checkpoint(job: Job) -> bytes | None:
    """The training state the run's last attempt saved at its last finished epoch, if any."""
    t = TRAINING_RUNS.c
    with jobs.store(job.url).reading("read a run's checkpoint from") as conn:
        return conn.execute(sa.select(t.checkpoint).where(t.id == int(job.id))).scalar_one()


def _hold_to_one_core() -> None:
    """A worker trains below the app server (niced), one thread for every numeric library."""
    os.environ.update(ONE_THREAD)
    if os.nice(0) < NICE:
        os.nice(NICE - os.nice(0))


# glibc's mallopt parameters
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 * 2**20  # arrays below it come from the reused heap: a batch's temporaries are 50-400 KiB
TRIM_THRESHOLD = 128 * 2**20  # the heap keeps this much free at its top before giving it back


def allocate_as_a_lone_process() -> bool:
    """Undo a Dask nanny's MALLOC_TRIM_THRESHOLD_=65536 for this worker process (True if done; False where the C
    library is not glibc). Setting it also fixes glibc's mmap threshold at 128 KiB, so every array of a batch
    (a NumPy MLP's are 50-400 KiB) was mapped and unmapped afresh: a default run's fit took 10.9 s in a worker
    against 4.5 s in a lone process (docs/engine.md)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def _write(job: Job, **values) -> bool:
    """Update the run's record; True when it has been asked to stop."""
    t = TRAINING_RUNS.c
    with jobs.store(job.url).writing("write a run's progress to") as conn:
        conn.execute(TRAINING_RUNS.update().where(t.id == int(job.id)).values(**values))
        return bool(conn.execute(sa.select(t.stop).where(t.id == int(job.id))).scalar_one())


def train(job: Job, folder: Path, state: Path) -> tuple[str, str]:
    """Train a network from the Train page's knobs; its model folder as train.py writes one (pipeline.py). `state`
    keeps each finished epoch's training state (saved in the record too), and holds the one a retry goes on from."""
    config = job.config()
    mnist, data = run_data(job, config)
    listener = JobListener(job, config.epochs, len(data.x_train), max_minutes(), state)
    listener.write()
    resumed = len(listener.history["loss"])
    about = {"train": _trained_on(job, config), "n_train": len(data.x_train), "n_validation": len(data.x_val)}
    fitted = pipeline.fit_and_write(
        config, data, folder, mnist, name=job.label, about=about, listener=listener, measure_drawn=True, state=state
    )
    if fitted.report is None:
        return (STOPPED, f"{listener.reason} before its first epoch ended: nothing to keep")
    epochs = len(fitted.history["loss"])
    if listener.reason:
        return (STOPPED, f"{listener.reason} after epoch {epochs}: the network is kept as it was then")
    if resumed:
        return (FINISHED, f"{epochs} epochs; its worker stopped, and it went on from the end of epoch {resumed}")
    return (FINISHED, f"{epochs} epochs in {fitted.seconds:.0f} s")


_kept: dict = {}  # the worker's last run's MNIST and training data, by what they were made from


def run_data(job: Job, config) -> tuple:
    """(MNIST, the run's training data), kept in this worker for its next run, read-only. A class's runs ask for the
    same digits, and fresh memory is what a run's data cost most: a default run turned 54,000 digits to floats in
    0.07-3.7 s on this machine, by how much of that memory its host had to back afresh (docs/results.md). One set is
    kept: a worker holds at most one run's data between runs (about 250 MB for all of MNIST)."""
    from mnist_app.data import load_mnist

    pen = (tuple(getattr(config, "pen_writers", ())), getattr(config, "pen_variants", 0))
    key = (os.environ.get("MNIST_DATA", ""), job.data.digits, job.seed, config.val_fraction, pen)
    if _kept.get("key") != key:
        _kept.clear()
        mnist = load_mnist()
        data = pipeline.training_data(mnist, config, job.data.digits, job.seed, workers=1)
        for array in (mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test, *vars(data).values()):
            array.flags.writeable = False  # shared by the runs to come: none may change it
        _kept.update(key=key, mnist=mnist, data=data)
    return _kept["mnist"], _kept["data"]


def teach(job: Job, folder: Path, images: np.ndarray, labels: np.ndarray) -> tuple[str, str]:
    """Teach a shipped model the job's drawings, and measure it honestly: a third of the drawings (every third one)
    is kept from a first teaching and read before and after it, beside MNIST test digits (forgetting); then the
    model is taught every drawing, and that is the one kept (a models folder: personal.save)."""
    from mnist_app.data import load_replay, to_float
    from mnist_app.training import personal

    mnist = load_replay()  # shipped with the models: teaching needs no MNIST_DATA
    listener = JobListener(job, personal.RECIPE.epochs, len(images), max_minutes())
    listener.write()
    base = load(job.model)
    measured = np.arange(2, len(labels), 3)
    taught = np.setdiff1d(np.arange(len(labels)), measured)
    start = time.perf_counter()
    # the first teaching sees two thirds of the drawings: it may be fewer than a teaching of its own would take
    probe = personal.fine_tune(job.model, images[taught], labels[taught], listener=listener, minimum=1)
    test_x, test_y = to_float(mnist.x_test[:TEACH_TEST_DIGITS]), mnist.y_test[:TEACH_TEST_DIGITS]
    before, after = base.predict_proba(images[measured]), probe.predict_proba(images[measured])
    result = {
        "drawings": len(labels),
        "taught_first": len(taught),
        "measured": len(measured),
        "yours_before": _right(before, labels[measured]),
        "yours_after": _right(after, labels[measured]),
        "mnist_before": _right(base.predict_proba(test_x), test_y),
        "mnist_after": _right(probe.predict_proba(test_x), test_y),
        "mnist_digits": len(test_y),
        "per_digit": _per_digit(before, after, labels[measured]),
    }
    listener.write(phase="teaching every drawing")
    about = {"train": f"{len(labels)} of your drawings, with MNIST digits replayed beside them"}
    measured_on = replace(mnist, x_test=mnist.x_test[:TEACH_TEST_DIGITS], y_test=test_y)
    fit = personal.teaching(job.model, images, labels)
    fitted = pipeline.fit_and_write(
        personal.RECIPE,
        None,
        folder,
        measured_on,
        name=job.label,
        about=about,
        listener=listener,
        fit=fit,
        save=personal.save,
        extra={"teach": result},
    )
    if fitted.report is None:
        return (STOPPED, f"{listener.reason}: nothing is kept")
    gain = f"{result['yours_before']:.0%} -> {result['yours_after']:.0%} of the drawings it was not taught"
    return (FINISHED, f"taught {len(labels)} drawings in {time.perf_counter() - start:.0f} s: {gain}")


def _right(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(probs.argmax(axis=1) == labels)) if len(labels) else float("nan")


def _per_digit(before: np.ndarray, after: np.ndarray, labels: np.ndarray) -> dict[str, list[int]]:
    """{digit: [read right before, read right after, drawings]} of the measured drawings."""
    right_before, right_after = before.argmax(1) == labels, after.argmax(1) == labels
    return {
        str(d): [int(right_before[labels == d].sum()), int(right_after[labels == d].sum()), int((labels == d).sum())]
        for d in range(10)
        if (labels == d).any()
    }


def _trained_on(job: Job, config) -> str:
    what = f"the first {job.data.digits:,} MNIST training digits" + (
        ", distorted each epoch" if job.data.augment else ""
    )
    if job.data.pen:
        what += f"; {pen_training.describe(config.pen_writers, config.pen_variants)}"
    return what
