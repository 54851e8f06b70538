"""Training runs started from the Train page, each in a process of its own, so that the server keeps serving.

A job is a folder under `jobs_root()`, and its state is which files it holds, never a process's memory:
    job.json        what to train: the network, its knobs, the data, whose it is (an owner key, visitors.py; written
                    once, by `submit`)
    started.json    the process training it (written by `dispatch` when it starts the job)
    progress.json   what the trainer has done so far (rewritten by that process a few times a second)
    stop            asks that process to end after the current batch (`request_stop`)
    end.json        how it ended: finished, stopped or failed, and why (by that process, or by `dispatch`
                    for a process that died without writing it, so a killed run never shows as running)
    model/          the trained network and its reports, laid out as a models/ folder's model; renamed into
                    place whole, so a run killed mid-epoch or mid-write leaves no broken model
Runs start oldest first, at most `max_jobs()` at once (MNIST_APP_TRAIN_JOBS, default 1); the others queue.
A run's process (job_process.py) is niced and held to one thread, and ends itself when the server that started it
is gone.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mnist_app.artifacts import read_json, write_json
from mnist_app.data import pen_training
from mnist_app.models import SHIPPED, Model, ModelLoadError, label_of
from mnist_app.models.kinds import kind_named
from mnist_app.store.visitors import NOBODY
from mnist_app.training.settings import DataSettings, network_of, to_config

QUEUED, RUNNING, FINISHED, STOPPED, FAILED = "queued", "running", "finished", "stopped", "failed"
TRAIN, TEACH = "train", "teach"
NICE = 10  # below the server, which keeps answering the Draw page first
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")
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
    owner: str  # the owner key of the visitor who started it: their runs are listed by it
    created: str
    number: int  # the owner's run number, for the labels: unique per owner
    task: str = "train"  # "train": a network from the Train page's knobs; "teach": a shipped model taught drawings
    model: str = ""  # the shipped model a "teach" job teaches
    status: str = QUEUED
    message: str = ""
    progress: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.task == TEACH:  # a second teaching of one owner's is named apart from the first
            return f"{label_of(self.model)} + your handwriting" + (f" ({self.number})" if self.number > 1 else "")
        return f"Run {self.number}: {network_of(self.network).label}"

    @property
    def model_folder(self) -> Path:
        return self.folder / "model"

    def config(self):
        """The kind's config of this run (train_settings.to_config)."""
        return to_config(self.network, self.values, self.data, self.seed, self.label)

    def has_model(self) -> bool:
        return self.status in (FINISHED, STOPPED) and (self.model_folder / "report.json").is_file()


def submit(network: str, values: dict, data: DataSettings, owner: str, seed: int = 0, root: Path | None = None) -> Job:
    """Queue a run; SettingsError (naming the knob and its limit) and nothing written if a setting is out."""
    to_config(network, values, data, seed)  # refused here, before anything is queued
    return _queue({"network": network, "values": values, "data": asdict(data)}, owner, seed, root)


def submit_teach(
    model: str, images: np.ndarray, labels: np.ndarray, owner: str, seed: int = 0, root: Path | None = None
) -> Job:
    """Queue teaching a shipped model these drawings; ValueError (saying what is wrong) and nothing queued for bad
    input or a model that cannot be taught."""
    from mnist_app.training.personal import check_drawings

    images, labels = check_drawings(images, labels)
    if model not in SHIPPED:
        raise ValueError(f"{model!r} cannot be taught: only {', '.join(SHIPPED)} can")
    record = {"task": TEACH, "model": model, "network": "", "values": {}, "data": asdict(DataSettings())}

    def drawings(folder: Path) -> None:
        with open(folder / "drawings.npz", "wb") as handle:
            np.savez_compressed(handle, images=images, labels=labels)

    return _queue(record, owner, seed, root, before=drawings)


def _queue(record: dict, owner: str, seed: int, root: Path | None, before=None) -> Job:
    """Write a job's folder whole (its other files first, job.json last), then let the dispatcher see it. Numbered
    under the jobs' lock, so that two tabs of one visitor never both start a "Run 1"."""
    if not isinstance(owner, str) or not owner:
        raise ValueError("a run needs its owner's key (visitors.Visitor.owner)")
    root = Path(root or jobs_root())
    job_id = f"{datetime.now(UTC):%Y%m%d-%H%M%S-%f}-{secrets.token_hex(3)}"
    created = datetime.now(UTC).isoformat(timespec="seconds")
    (root / job_id).mkdir(parents=True)
    if before:
        before(root / job_id)
    with _locked(root):
        task = record.get("task", TRAIN)
        number = 1 + max((job.number for job in list_jobs(root, owner) if job.task == task), default=0)
        about = {"seed": seed, "owner": owner, "created": created, "number": number}
        write_json(root / job_id / "job.json", record | about)
    dispatch(root)
    return read(root / job_id)


def read(folder: Path, with_progress: bool = True) -> Job:
    """A job from its folder (ValueError if job.json is unreadable); its progress too, unless told not to."""
    status, message = _state(folder)
    progress = _optional_json(folder / "progress.json") if with_progress else {}
    return job_from_record(read_json(folder / "job.json"), folder, status, message, progress)


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
        owner=record.get("owner", NOBODY),  # a run from before owners was its public visit id's: nobody's now
        created=record["created"],
        number=int(record.get("number", 1)),
        task=record.get("task", TRAIN),
        model=record.get("model", ""),
        status=status,
        message=message,
        progress=progress or {},
    )


def list_jobs(root: Path | None = None, owner: str | None = None) -> list[Job]:
    """Every readable job, oldest first (of one owner, if given), without its progress: the pages list jobs on
    every rerun, and only a live view reads a job's progress (`read`)."""
    root = Path(root or jobs_root())
    jobs = []
    for folder in sorted(root.glob("*/job.json")):
        try:
            job = read(folder.parent, with_progress=False)
        except (ValueError, KeyError, TypeError):  # a half-made or foreign folder is not a job
            continue
        if owner is None or job.owner == owner:
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
    write_json(job.folder / "end.json", {"status": STOPPED, "message": job.message, "ended": now()})


def _start(job: Job) -> None:
    env = {**os.environ, **dict.fromkeys(ONE_THREAD, "1"), "TF_NUM_INTEROP_THREADS": "1"}
    with open(job.folder / "log.txt", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mnist_app.training.job_process", str(job.folder)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=lambda: os.nice(NICE),
        )
    ticks = _start_ticks(process.pid)
    write_json(job.folder / "started.json", {"pid": process.pid, "start_ticks": ticks, "started": now()})


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
    if job.task == TEACH:  # a models folder of its own: the taught model (and its prototypes) and its taught members
        from mnist_app.training.personal import load_taught

        return replace(load_taught(job.model, folder), title=job.label)
    kind = kind_named(job.config().kind)
    path = folder / kind.weights_file
    try:
        return Model(f"run-{job.id}", kind.code().load_network(path), title=job.label)
    except Exception as exc:  # any reader's failure means the same here: this file is unusable
        raise ModelLoadError(f"{path}: cannot load ({exc})") from exc


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
