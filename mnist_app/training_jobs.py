"""Training runs started from the Train page, each in a process of its own, so that the server keeps serving.

A job is a folder under `jobs_root()`, and its state is which files it holds, never a process's memory:
    job.json        what to train: the network, its knobs, the data, who asked (written once, by `submit`)
    started.json    the process training it (written by `dispatch` when it starts the job)
    progress.json   what the trainer has done so far (rewritten by that process a few times a second)
    stop            asks that process to end after the current batch (`request_stop`)
    end.json        how it ended: finished, stopped or failed, and why (by that process, or by `dispatch`
                    for a process that died without writing it, so a killed run never shows as running)
    model/          the trained network and its reports, laid out as a models/ folder's model; renamed into
                    place whole, so a run killed mid-epoch or mid-write leaves no broken model
Runs start oldest first, at most `max_jobs()` at once (MNIST_APP_TRAIN_JOBS, default 1); the others queue.
A run's process is niced and held to one thread, and ends itself when the server that started it is gone.

    python -m mnist_app.training_jobs JOB_FOLDER    # what `dispatch` starts; trains one job
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import heldout, pen_training, pendigits
from .artifacts import read_json, write_json
from .contract import HISTORY_KEYS, TrainingData, TrainingListener, empty_history, in_chunks
from .kinds import kind_named
from .models import SHIPPED, Model, ModelLoadError, label_of, load
from .train_settings import DataSettings, SettingsError, max_minutes, network_of, to_config

QUEUED, RUNNING, FINISHED, STOPPED, FAILED = "queued", "running", "finished", "stopped", "failed"
TRAIN, TEACH = "train", "teach"
NICE = 10  # below the server, which keeps answering the Draw page first
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")
PROGRESS_EVERY_S = 0.2  # progress.json is rewritten at most this often: the page polls twice a second
TRACE_POINTS = 600  # the live curve keeps at most this many points, thinned evenly
TEACH_TEST_DIGITS = 2000  # MNIST test digits that show what teaching made a model forget (seconds, not minutes)


def jobs_root() -> Path:
    """$MNIST_APP_JOBS, else a jobs folder in the cache folder ($MNIST_APP_CACHE or ~/.cache/mnist-app)."""
    return Path(os.environ.get("MNIST_APP_JOBS") or pen_training.default_cache() / "jobs")


def max_jobs() -> int:
    """How many runs train at once on this server: MNIST_APP_TRAIN_JOBS, default 1."""
    return max(1, int(os.environ.get("MNIST_APP_TRAIN_JOBS") or 1))


@dataclass(frozen=True)
class Job:
    """A training run as its folder tells it."""

    id: str
    folder: Path
    network: str
    values: dict
    data: DataSettings
    seed: int
    session: str
    created: str
    number: int  # the session's run number, for the labels
    task: str = "train"  # "train": a network from the Train page's knobs; "teach": a shipped model taught drawings
    model: str = ""  # the shipped model a "teach" job teaches
    status: str = QUEUED
    message: str = ""
    progress: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.task == TEACH:
            return f"{label_of(self.model)} + your handwriting"
        return f"Run {self.number}: {network_of(self.network).label}"

    @property
    def model_folder(self) -> Path:
        return self.folder / "model"

    def config(self):
        """The kind's config of this run (train_settings.to_config)."""
        return to_config(self.network, self.values, self.data, self.seed, self.label)

    def has_model(self) -> bool:
        return self.status in (FINISHED, STOPPED) and (self.model_folder / "report.json").is_file()


def submit(
    network: str, values: dict, data: DataSettings, session: str, seed: int = 0, root: Path | None = None
) -> Job:
    """Queue a run; SettingsError (naming the knob and its limit) and nothing written if a setting is out."""
    to_config(network, values, data, seed)  # refused here, before anything is queued
    return _queue({"network": network, "values": values, "data": asdict(data)}, session, seed, root)


def submit_teach(
    model: str, images: np.ndarray, labels: np.ndarray, session: str, seed: int = 0, root: Path | None = None
) -> Job:
    """Queue teaching a shipped model these drawings; ValueError (saying what is wrong) and nothing queued for bad
    input or a model that cannot be taught."""
    from .personal import check_drawings

    images, labels = check_drawings(images, labels)
    if model not in SHIPPED:
        raise ValueError(f"{model!r} cannot be taught: only {', '.join(SHIPPED)} can")
    record = {"task": TEACH, "model": model, "network": "", "values": {}, "data": asdict(DataSettings())}

    def drawings(folder: Path) -> None:
        with open(folder / "drawings.npz", "wb") as handle:
            np.savez_compressed(handle, images=images, labels=labels)

    return _queue(record, session, seed, root, before=drawings)


def _queue(record: dict, session: str, seed: int, root: Path | None, before=None) -> Job:
    """Write a job's folder whole (its other files first, job.json last), then let the dispatcher see it."""
    root = Path(root or jobs_root())
    number = 1 + sum(1 for job in list_jobs(root) if job.session == session)
    job_id = f"{datetime.now(UTC):%Y%m%d-%H%M%S-%f}-{secrets.token_hex(3)}"
    created = datetime.now(UTC).isoformat(timespec="seconds")
    (root / job_id).mkdir(parents=True)
    if before:
        before(root / job_id)
    about = {"seed": seed, "session": session, "created": created, "number": number}
    write_json(root / job_id / "job.json", record | about)
    dispatch(root)
    return read(root / job_id)


def read(folder: Path) -> Job:
    """A job from its folder (ValueError if job.json is unreadable)."""
    status, message = _state(folder)
    return job_from_record(
        read_json(folder / "job.json"), folder, status, message, _optional_json(folder / "progress.json")
    )


def job_from_record(
    record: dict, folder: Path = Path("."), status: str = FINISHED, message: str = "", progress=None
) -> Job:
    """A job from its job.json record (a kept run's too); KeyError or TypeError when the record is not one."""
    return Job(
        id=folder.name,
        folder=folder,
        network=record["network"],
        values=record["values"],
        data=DataSettings(**record["data"]),
        seed=int(record["seed"]),
        session=record["session"],
        created=record["created"],
        number=int(record.get("number", 1)),
        task=record.get("task", TRAIN),
        model=record.get("model", ""),
        status=status,
        message=message,
        progress=progress or {},
    )


def list_jobs(root: Path | None = None, session: str | None = None) -> list[Job]:
    """Every readable job, oldest first (of one session, if given)."""
    root = Path(root or jobs_root())
    jobs = []
    for folder in sorted(root.glob("*/job.json")):
        try:
            job = read(folder.parent)
        except (ValueError, KeyError, TypeError):  # a half-made or foreign folder is not a job
            continue
        if session is None or job.session == session:
            jobs.append(job)
    return jobs


def queue_position(job: Job, root: Path | None = None) -> int:
    """1 for the next queued job to start; 0 when it is not queued."""
    queued = [j.id for j in list_jobs(root) if j.status == QUEUED]
    return queued.index(job.id) + 1 if job.id in queued else 0


def _state(folder: Path) -> tuple[str, str]:
    end = _optional_json(folder / "end.json")
    if end:
        return end["status"], end.get("message", "")
    started = _optional_json(folder / "started.json")
    if not started:
        return QUEUED, ""
    if _alive(started["pid"], started["start_ticks"]):
        return RUNNING, ""
    return STOPPED, "interrupted: its process ended before the run finished (the server stopped, or it was killed)"


def _optional_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _start_ticks(pid: int) -> int | None:
    """When a process started (clock ticks since boot, /proc/PID/stat), or None if it is gone or a zombie:
    a pid the system has since given to another process does not pass for the run's."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, *rest = stat.rsplit(")", 1)[1].split()
    return None if state in ("Z", "X") else int(rest[18])


def _alive(pid: int, start_ticks: int) -> bool:
    return _start_ticks(pid) == start_ticks


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One dispatcher at a time, across the server's threads and processes."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def dispatch(root: Path | None = None) -> None:
    """Record how dead runs ended, then start queued runs, oldest first, while fewer than max_jobs() train."""
    root = Path(root or jobs_root())
    with _locked(root):
        jobs = list_jobs(root)
        for job in jobs:
            if job.status == STOPPED and not (job.folder / "end.json").exists():
                _reap(job)
        running = sum(1 for job in jobs if job.status == RUNNING)
        for job in (j for j in jobs if j.status == QUEUED):
            if running >= max_jobs():
                break
            _start(job)
            running += 1


def _reap(job: Job) -> None:
    started = _optional_json(job.folder / "started.json")
    try:
        os.waitpid(started["pid"], os.WNOHANG)  # our own child's exit status, so that it leaves no zombie
    except (ChildProcessError, KeyError, OSError):
        pass
    write_json(job.folder / "end.json", {"status": STOPPED, "message": job.message, "ended": _now()})


def _start(job: Job) -> None:
    env = {**os.environ, **dict.fromkeys(ONE_THREAD, "1"), "TF_NUM_INTEROP_THREADS": "1"}
    with open(job.folder / "log.txt", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mnist_app.training_jobs", str(job.folder)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=lambda: os.nice(NICE),
        )
    ticks = _start_ticks(process.pid)
    write_json(job.folder / "started.json", {"pid": process.pid, "start_ticks": ticks, "started": _now()})


def request_stop(job: Job) -> None:
    """Stop a run: a queued one never starts; a running one ends after its current batch, keeping its last
    finished epoch (the best one, with early stopping)."""
    with _locked(job.folder.parent):
        status, _ = _state(job.folder)
        if status == QUEUED:
            write_json(job.folder / "end.json", {"status": STOPPED, "message": "stopped before it started"})
        elif status == RUNNING:
            (job.folder / "stop").touch()


def delete(job: Job) -> None:
    """Remove a run that is no longer training, and its model."""
    if _state(job.folder)[0] in (QUEUED, RUNNING):
        raise ValueError("stop the run before deleting it")
    shutil.rmtree(job.folder, ignore_errors=True)


def load_model(job: Job, folder: Path | None = None) -> Model:
    """The run's network behind the model contract, from its model folder (or a copy of it: `folder`);
    ModelLoadError when it has none or it is unusable."""
    if folder is None and not job.has_model():
        why = f"{job.status}: {job.message}" if job.message else job.status
        raise ModelLoadError(f"{job.label} has no trained network ({why})")
    folder = folder or job.model_folder
    if job.task == TEACH:  # a models folder of its own: the taught model and its taught members
        return replace(load(job.model, folder), title=job.label)
    kind = kind_named(job.config().kind)
    path = folder / kind.weights_file
    try:
        return Model(f"run-{job.id}", kind.code().load_network(path), title=job.label)
    except Exception as exc:  # any reader's failure means the same here: this file is unusable
        raise ModelLoadError(f"{path}: cannot load ({exc})") from exc


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- the run's own process ---


class JobListener(TrainingListener):
    """Writes the run's progress for the page, and turns Stop, the time limit and a vanished server into a stop."""

    def __init__(self, folder: Path, epochs: int, digits: int, minutes: float):
        self.folder, self.epochs, self.digits = folder, epochs, digits
        self.parent, self.start, self.deadline = os.getppid(), None, time.monotonic() + 60 * minutes
        self.minutes, self.reason, self.last_write = minutes, "", 0.0
        self.history, self.trace, self.seen = empty_history(), [], 0
        self.state = {"phase": "preparing", "epoch": 0, "epochs": epochs, "done": 0, "batches": 1}

    def on_batch(self, epoch: int, done: int, batches: int, loss: float, accuracy: float) -> None:
        if self.start is None:  # speed and time left count training alone, not loading data or TensorFlow
            self.start, self.state["phase"] = time.monotonic() - 1e-3, "training"
        self.seen += 1
        self.state |= {"epoch": epoch, "done": done, "batches": batches, "loss": loss, "accuracy": accuracy}
        if time.monotonic() - self.last_write >= PROGRESS_EVERY_S or done == batches:
            self.trace.append([round(epoch + done / batches, 4), loss, accuracy])
            self.write()

    def on_epoch(self, epoch: int, scores: dict[str, float]) -> None:
        for key in HISTORY_KEYS:
            self.history[key].append(scores[key])
        self.write()

    def stop_requested(self) -> bool:
        if not self.reason:
            if (self.folder / "stop").exists():
                self.reason = "stopped by you"
            elif time.monotonic() > self.deadline:
                self.reason = f"stopped at the time limit of {self.minutes:g} minutes per run"
            elif os.getppid() != self.parent:
                self.reason = "stopped: the server that started it stopped"
        return bool(self.reason)

    def write(self, **extra) -> None:
        elapsed = time.monotonic() - (self.start or time.monotonic())
        batches_done = self.state["epoch"] * self.state["batches"] + self.state["done"]
        total = self.epochs * self.state["batches"]
        per_batch = elapsed / max(1, self.seen)
        if len(self.trace) > TRACE_POINTS:
            self.trace = self.trace[::2]
        self.state |= {
            "elapsed_s": round(elapsed, 2),
            "digits_per_s": round(self.digits * batches_done / self.state["batches"] / max(elapsed, 1e-6)),
            "eta_s": round(per_batch * max(0, total - batches_done), 1),
            "trace": self.trace,
            "history": self.history,
            **extra,
        }
        write_json(self.folder / "progress.json", self.state)
        self.last_write = time.monotonic()


def training_data(job: Job, config, mnist) -> TrainingData:
    """The first `digits` MNIST training digits (a tenth for validation), plus the pen drawings if asked."""
    from .data import split_validation, to_float

    images, labels = mnist.x_train[: job.data.digits], mnist.y_train[: job.data.digits]
    x_train, y_train, x_val, y_val = split_validation(images, labels, config.val_fraction, job.seed)
    x_train = to_float(x_train)
    if job.data.pen:
        pen, pen_labels, _ = pen_training.cached_drawings(
            config.pen_writers, config.pen_variants, config.seed, workers=1
        )
        x_train, y_train = np.concatenate([x_train, pen]), np.concatenate([y_train, pen_labels])
    return TrainingData(x_train, y_train, to_float(x_val), y_val)


def run(folder: Path) -> str:
    """Do the job in `folder` and write its model and end.json; returns how it ended."""
    job = read(folder)
    return teach(job) if job.task == TEACH else train(job)


def train(job: Job) -> str:
    """Train a network from the Train page's knobs; its model folder as train.py writes one."""
    from .data import load_mnist, to_float
    from .reports import build_report, misclassified, write_reports

    folder = job.folder
    config = job.config()
    mnist = load_mnist()
    data = training_data(job, config, mnist)
    listener = JobListener(folder, config.epochs, len(data.x_train), max_minutes())
    listener.write()
    kind = kind_named(config.kind)
    start = time.perf_counter()
    network, history = kind.code().train_network(config, data, load, 0, listener)
    seconds = time.perf_counter() - start
    if not history["loss"]:
        return _end(folder, STOPPED, f"{listener.reason} before its first epoch ended: nothing to keep")
    listener.write(phase="measuring")
    scratch = folder / "model.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    network.save(scratch / kind.weights_file)
    model = Model(f"run-{job.id}", network)
    probs = in_chunks(model.predict_proba, to_float(mnist.x_test))
    about = {"train": _trained_on(job, config), "n_train": len(data.x_train), "n_validation": len(data.x_val)}
    report = build_report(job.label, config, mnist.y_test, probs, about | {"n_test": len(mnist.x_test)}, seconds)
    report["drawn"] = _drawn(model)
    write_reports(scratch, history, report, misclassified(mnist.x_test, mnist.y_test, probs))
    os.replace(scratch, job.model_folder)  # the model appears whole or not at all
    epochs = len(history["loss"])
    if listener.reason:
        return _end(folder, STOPPED, f"{listener.reason} after epoch {epochs}: the network is kept as it was then")
    return _end(folder, FINISHED, f"{epochs} epochs in {seconds:.0f} s")


def teach(job: Job) -> str:
    """Teach a shipped model the job's drawings, and measure it honestly: a third of the drawings (every third one)
    is kept from a first teaching and read before and after it, beside MNIST test digits (forgetting); then the
    model is taught every drawing, and that is the one kept (a models folder: personal.save)."""
    from . import personal
    from .data import load_mnist, to_float
    from .reports import build_report, misclassified, write_reports

    with np.load(job.folder / "drawings.npz", allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"]
    mnist = load_mnist()
    listener = JobListener(job.folder, personal.RECIPE.epochs, len(images), max_minutes())
    listener.write()
    base = load(job.model)
    measured = np.arange(2, len(labels), 3)
    taught = np.setdiff1d(np.arange(len(labels)), measured)
    start = time.perf_counter()
    # the first teaching sees two thirds of the drawings: it may be fewer than a teaching of its own would take
    probe = personal.fine_tune(job.model, images[taught], labels[taught], mnist=mnist, listener=listener, minimum=1)
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
    final = personal.fine_tune(job.model, images, labels, mnist=mnist, listener=listener)
    if listener.reason:
        return _end(job.folder, STOPPED, f"{listener.reason}: nothing is kept")
    scratch = job.folder / "model.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    personal.save(final, scratch)
    probs = final.predict_proba(test_x)
    about = {"train": f"{len(labels)} of your drawings, with MNIST digits replayed beside them", "n_test": len(test_y)}
    report = build_report(job.label, personal.RECIPE, test_y, probs, about, time.perf_counter() - start)
    report |= {"teach": result, "kind": "teach"}
    write_reports(scratch, empty_history(), report, misclassified(mnist.x_test[:TEACH_TEST_DIGITS], test_y, probs))
    os.replace(scratch, job.model_folder)
    gain = f"{result['yours_before']:.0%} -> {result['yours_after']:.0%} of the drawings it was not taught"
    return _end(job.folder, FINISHED, f"taught {len(labels)} drawings in {time.perf_counter() - start:.0f} s: {gain}")


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


def _drawn(model: Model) -> dict | None:
    """Accuracy on the held-out writers' drawings, as the shipped models are measured; None without the pen file."""
    if not pendigits.default_path().is_file():
        return None
    return heldout.accuracy(model.predict_proba)


def _end(folder: Path, status: str, message: str) -> str:
    write_json(folder / "end.json", {"status": status, "message": message, "ended": _now()})
    return status


def main(argv: list[str] | None = None) -> None:
    folder = Path((argv or sys.argv[1:])[0])
    try:
        status = run(folder)
    except (SettingsError, ModelLoadError, ValueError, OSError, MemoryError) as exc:
        _end(folder, FAILED, str(exc))
        raise SystemExit(1) from exc
    except Exception as exc:  # any other failure still ends the run, with what went wrong
        _end(folder, FAILED, f"{type(exc).__name__}: {exc}")
        raise
    print(f"mnist-app run {folder.name}: {status}")


if __name__ == "__main__":
    main()
