"""Training runs started from the Train page and teach mode: records in the store, trained as tasks of the engine.

A run is a row of the store's `training_runs` (schema.py), owned by the visitor who started it (their owner key,
visitors.py), so that a reload, a restart of the app server and every other server find it. `submit` checks the
settings, writes the row and hands the run to the engine (engine.py), which queues it, places it on a worker, retries
it there if its worker dies, and cancels it while it waits. The worker (job_process.run_task) writes the run's
progress, its end and its model folder (a zip, as kept runs keep theirs) into the row; the pages read them back.
A visitor has at most `runs_per_visitor()` runs waiting or training; each one's first run goes before anyone's second.
"""

from __future__ import annotations

import functools
import os
import shutil
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from mnist_app.data import pen_training
from mnist_app.models import SHIPPED, Model, ModelLoadError, label_of
from mnist_app.models.kinds import kind_named
from mnist_app.store.database import StoreError, default_url
from mnist_app.store.drawings import DrawingStore
from mnist_app.store.schema import TRAINING_RUNS
from mnist_app.store.visitors import NOBODY
from mnist_app.training import engine, pipeline
from mnist_app.training.settings import DataSettings, SettingsError, network_of, to_config

QUEUED, RUNNING, FINISHED, STOPPED, FAILED = "queued", "running", "finished", "stopped", "failed"
ACTIVE = (QUEUED, RUNNING)
TRAIN, TEACH = "train", "teach"
TEACH_TEST_DIGITS = 2000  # MNIST test digits that show what teaching made a model forget (seconds, not minutes)
RUNS_PER_VISITOR = 3  # default of MNIST_APP_RUNS_PER_VISITOR
LOST_AFTER_S = 30  # a run the scheduler has not heard of this long after it was queued is lost
BULKY = ("archive", "progress", "checkpoint")  # columns read only when wanted: a page lists runs every second


class TooManyRuns(SettingsError):
    """The visitor already has their share of runs waiting or training."""


def runs_per_visitor() -> int:
    """MNIST_APP_RUNS_PER_VISITOR: how many runs one visitor may have waiting or training at once (default 3)."""
    return max(1, int(os.environ.get("MNIST_APP_RUNS_PER_VISITOR") or RUNS_PER_VISITOR))


def store(url: str | None = None) -> DrawingStore:
    """The store the runs live in: MNIST_APP_DB's (the drawings' store), one per URL and process."""
    return _store(url or default_url())


@functools.cache
def _store(url: str) -> DrawingStore:
    return DrawingStore(url)


@dataclass(frozen=True)
class Job:
    """A training run as its record tells it."""

    id: str
    network: str
    values: dict
    data: DataSettings
    seed: int
    owner: str  # the owner key of the visitor who started it: their runs are listed by it
    created: str
    number: int  # the owner's run number, for the labels: unique per owner
    task: str = TRAIN  # "train": a network from the Train page's knobs; "teach": a shipped model taught drawings
    model: str = ""  # the shipped model a "teach" job teaches
    status: str = QUEUED
    message: str = ""
    progress: dict = field(default_factory=dict)
    url: str = ""  # the store holding it
    has_archive: bool = False
    attempt: int = 0
    comparison: str = ""  # the id its Compare settings press shares with its other variations ("": a lone run)
    difference: str = ""  # what sets it apart in its comparison, e.g. "optimizer sgd"

    @property
    def key(self) -> str:
        """Its task's key on the engine."""
        return f"mnist-app-run-{_safe(self.url)}-{self.id}-{self.created}"  # unique across stores and their resets

    @property
    def label(self) -> str:
        if self.task == TEACH:  # a second teaching of one owner's is named apart from the first
            return f"{label_of(self.model)} + your handwriting" + (f" ({self.number})" if self.number > 1 else "")
        named = f"Run {self.number}: {network_of(self.network).label}"
        return f"{named} ({self.difference})" if self.difference else named

    @property
    def model_folder(self) -> Path:
        """Its model folder, unpacked from the store into this machine's cache on first use."""
        folder = pen_training.default_cache() / "runs" / _safe(self.url) / self.id
        if self.has_model() and not (folder / "report.json").is_file():
            with store(self.url).reading("read a run's model from") as conn:
                archive = conn.execute(
                    sa.select(TRAINING_RUNS.c.archive).where(TRAINING_RUNS.c.id == int(self.id))
                ).scalar_one()
            scratch = folder.with_name(folder.name + ".partial")
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            pipeline.unzip(archive, scratch)
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(scratch, folder)
        return folder

    def record(self) -> dict:
        """What was trained, and how (a kept run keeps it)."""
        return {
            "network": self.network,
            "values": self.values,
            "data": asdict(self.data),
            "seed": self.seed,
            "owner": self.owner,
            "created": self.created,
            "number": self.number,
            "task": self.task,
            "model": self.model,
            "comparison": self.comparison,
            "difference": self.difference,
        }

    def config(self):
        """The kind's config of this run (settings.to_config)."""
        return to_config(self.network, self.values, self.data, self.seed, self.label)

    def has_model(self) -> bool:
        return self.status in (FINISHED, STOPPED) and self.has_archive


def _safe(url: str) -> str:
    import hashlib

    return hashlib.sha256(url.encode()).hexdigest()[:12]


def submit(network: str, values: dict, data: DataSettings, owner: str, seed: int = 0, url: str | None = None) -> Job:
    """Queue a run; SettingsError (naming the knob and its limit, or the visitor's share) and nothing queued if a
    setting is out."""
    to_config(network, values, data, seed)  # refused here, before anything is queued
    return _queue({"network": network, "values": values, "data": asdict(data), "seed": seed}, TRAIN, owner, url)


def submit_teach(
    model: str, images: np.ndarray, labels: np.ndarray, owner: str, seed: int = 0, url: str | None = None
) -> Job:
    """Queue teaching a shipped model these drawings; ValueError (saying what is wrong) and nothing queued for bad
    input or a model that cannot be taught."""
    from mnist_app.training.personal import check_drawings

    images, labels = check_drawings(images, labels)
    if model not in SHIPPED:
        raise ValueError(f"{model!r} cannot be taught: only {', '.join(SHIPPED)} can")
    record = {"model": model, "network": "", "values": {}, "data": asdict(DataSettings()), "seed": seed}
    return _queue(record, TEACH, owner, url, drawings=(images, labels))


def _queue(record: dict, task: str, owner: str, url: str | None, drawings=None) -> Job:
    """Write the run's row, numbered for its owner, then hand it to the engine (queue_all)."""
    return queue_all([record], task, owner, url, drawings)[0]


def queue_all(records: list[dict], task: str, owner: str, url: str | None, drawings=None) -> list[Job]:
    """Write a row per record in one transaction, numbered for their owner, then hand each to the engine; TooManyRuns
    (nothing written) when they do not all fit the visitor's share, EngineUnavailable (nothing left queued) when the
    engine cannot take them. The records' settings must have been checked."""
    if not isinstance(owner, str) or not owner:
        raise ValueError("a run needs its owner's key (visitors.Visitor.owner)")
    t = TRAINING_RUNS.c
    with store(url).writing("queue a run in") as conn:
        mine = conn.execute(sa.select(t.task, t.number, t.status).where(t.owner == owner)).all()
        active = sum(1 for row in mine if row.status in ACTIVE)
        _refuse_past_share(active, len(records))
        number, now = max((row.number for row in mine if row.task == task), default=0), datetime.now(UTC)
        rows = [
            {"owner": owner, "number": n, "task": task, "record": record, "status": QUEUED, "created_at": now}
            for n, record in enumerate(records, start=number + 1)
        ]
        ids = [conn.execute(TRAINING_RUNS.insert().returning(t.id), row).scalar_one() for row in rows]
    queued = [read(str(run_id), url) for run_id in ids]
    for place, job in enumerate(queued):
        try:
            args = (url or default_url(), job.id, drawings, engine.task_env())
            # each visitor's later runs (a comparison's too) wait behind everyone's earlier ones
            engine.submit("mnist_app.training.job_process:run_task", *args, key=job.key, priority=-(active + place))
        except engine.EngineUnavailable as exc:
            for unsent in queued[place:]:
                _end(unsent, FAILED, str(exc))
            raise
    return queued


def _refuse_past_share(active: int, more: int) -> None:
    """TooManyRuns when `more` runs beside the `active` ones would pass the visitor's share."""
    if active + more > runs_per_visitor():
        these = f"these {more} settings are {more} runs, and " if more > 1 else ""
        raise TooManyRuns(
            f"{these}you have {active} runs waiting or training: the limit is {runs_per_visitor()} per person; "
            "stop one or wait for one to end"
        )


def read(job: Job | str, url: str | None = None, with_progress: bool = True, reap: bool = True) -> Job:
    """A run from the store (by its id, or a Job to read afresh); ValueError if there is no such run. `reap`: record
    it ended if the engine lost it (the app's job: a worker cannot ask its engine, and would find its own run lost)."""
    if isinstance(job, Job):
        job, url = job.id, job.url
    t = TRAINING_RUNS.c
    columns = [c for c in TRAINING_RUNS.c if c.name not in BULKY]
    columns += [t.archive.is_not(None).label("has_archive")]
    if with_progress:
        columns.append(t.progress)
    with store(url).reading("read a run from") as conn:
        row = conn.execute(sa.select(*columns).where(t.id == int(job))).one_or_none()
    if row is None:
        raise ValueError(f"there is no run {job}")
    found = _job(row, url or default_url())
    if reap and found.status in ACTIVE and _reap([found]):
        return read(found.id, url, with_progress)
    return found


def _job(row, url: str) -> Job:
    record = row.record
    return Job(
        id=str(row.id),
        network=record["network"],
        values=record["values"],
        data=DataSettings(**record["data"]),
        seed=int(record.get("seed", 0)),
        owner=row.owner,
        created=_utc(row.created_at).isoformat(timespec="seconds"),
        number=row.number,
        task=row.task,
        model=record.get("model", ""),
        status=row.status,
        message=row.message,
        progress=getattr(row, "progress", None) or {},
        url=url,
        has_archive=bool(row.has_archive),
        attempt=row.attempt,
        comparison=record.get("comparison", ""),
        difference=record.get("difference", ""),
    )


def job_from_record(record: dict, status: str = FINISHED, message: str = "") -> Job:
    """A job from its record (a kept run's); KeyError or TypeError when the record is not one."""
    return Job(
        id="kept",
        network=record["network"],
        values=record["values"],
        data=DataSettings(**record["data"]),
        seed=int(record["seed"]),
        owner=record.get("owner", NOBODY),
        created=record["created"],
        number=int(record.get("number", 1)),
        task=record.get("task", TRAIN),
        model=record.get("model", ""),
        status=status,
        message=message,
        comparison=record.get("comparison", ""),
        difference=record.get("difference", ""),
    )


def list_jobs(owner: str | None = None, url: str | None = None) -> list[Job]:
    """Every run, oldest first (of one owner, if given), without its progress; runs the engine lost (its server
    and workers stopped) are recorded as ended first."""
    t = TRAINING_RUNS.c
    columns = [c for c in TRAINING_RUNS.c if c.name not in BULKY]
    query = sa.select(*columns, t.archive.is_not(None).label("has_archive")).order_by(t.id)
    if owner is not None:
        query = query.where(t.owner == owner)
    with store(url).reading("list the runs in") as conn:
        jobs = [_job(row, url or default_url()) for row in conn.execute(query)]
    if _reap([job for job in jobs if job.status in ACTIVE]):
        return list_jobs(owner, url)
    return jobs


def _reap(active: list[Job]) -> bool:
    """Record how runs the engine no longer holds, or gave up on, ended; True if any was."""
    failed = [(job, why) for job in active if (why := engine.gave_up(job.key))]
    for job, why in failed:
        _end(job, FAILED, f"failed: its workers stopped, and the engine gave up on it ({why})", only_active=True)
    if failed:
        return True
    old = [job for job in active if _age_s(job.created) > LOST_AFTER_S]
    if not old:
        return False
    try:
        held = engine.known([job.key for job in old])
    except (engine.EngineUnavailable, OSError):
        return False
    lost = [job for job in old if job.key not in held]
    for job in lost:
        _end(job, STOPPED, "interrupted: the training engine lost it (its server or workers stopped)", only_active=True)
    return bool(lost)


def _age_s(created: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(created)).total_seconds()


def _end(job: Job, status: str, message: str, only_active: bool = False) -> None:
    t = TRAINING_RUNS.c
    where = t.id == int(job.id)
    if only_active:
        where = sa.and_(where, t.status.in_(ACTIVE))
    try:
        with store(job.url).writing("end a run in") as conn:
            conn.execute(
                TRAINING_RUNS.update().where(where).values(status=status, message=message, ended_at=datetime.now(UTC))
            )
    except StoreError:
        pass


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


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite keeps no zone: it was stored as UTC
