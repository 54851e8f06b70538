"""Where a run stands: its place in the engine's queue and the wait before it starts; stopping and deleting it."""

from __future__ import annotations

import shutil
import statistics
from datetime import UTC, datetime

import sqlalchemy as sa

from mnist_app.data import pen_training
from mnist_app.store.schema import TRAINING_RUNS
from mnist_app.training import engine
from mnist_app.training.jobs import ACTIVE, FINISHED, QUEUED, STOPPED, Job, _safe, _utc, read, store

TYPICAL_RUN_S = 30.0  # a wait estimate's run time before any run has finished


def queue_position(job: Job) -> int:
    """1 for the next queued run to start; 0 when it is not queued. Each visitor's earlier runs go first."""
    t = TRAINING_RUNS.c
    with store(job.url).reading("read the queue in") as conn:
        queued = conn.execute(sa.select(t.id, t.owner).where(t.status == QUEUED).order_by(t.id)).all()
    order = sorted(queued, key=lambda row: (sum(1 for r in queued if r.owner == row.owner and r.id < row.id), row.id))
    ids = [str(row.id) for row in order]
    return ids.index(job.id) + 1 if job.id in ids else 0


def wait_estimate(job: Job) -> float:
    """Seconds until a queued run starts: the runs ahead of it, shared by the workers, at the pace of the last
    finished runs (and the running ones' time left)."""
    place = queue_position(job)
    if not place:
        return 0.0
    t = TRAINING_RUNS.c
    with store(job.url).reading("read the queue in") as conn:
        ended = conn.execute(
            sa.select(t.started_at, t.ended_at)
            .where(t.status == FINISHED, t.started_at.is_not(None), t.ended_at.is_not(None))
            .order_by(t.id.desc())
            .limit(20)
        ).all()
    seconds = [(_utc(r.ended_at) - _utc(r.started_at)).total_seconds() for r in ended]
    typical = statistics.median(seconds) if seconds else TYPICAL_RUN_S
    return typical * -(-place // engine.workers())


def request_stop(job: Job, owner: str | None = None) -> bool:
    """Stop a run (of `owner`'s; any, for None: the admin): a queued one never starts; a running one ends after its
    current batch, keeping its last finished epoch (the best one, with early stopping). False if not theirs."""
    if owner is not None and job.owner != owner:
        return False
    t = TRAINING_RUNS.c
    with store(job.url).writing("stop a run in") as conn:
        conn.execute(TRAINING_RUNS.update().where(t.id == int(job.id)).values(stop=True))
        stopped = conn.execute(
            TRAINING_RUNS.update()
            .where(t.id == int(job.id), t.status == QUEUED)
            .values(status=STOPPED, message="stopped before it started", ended_at=datetime.now(UTC))
        ).rowcount
    if stopped:
        engine.cancel(job.key)
    return True


def delete(job: Job) -> None:
    """Remove a run that is no longer training, and its model."""
    if read(job).status in ACTIVE:
        raise ValueError("stop the run before deleting it")
    with store(job.url).writing("delete a run from") as conn:
        conn.execute(TRAINING_RUNS.delete().where(TRAINING_RUNS.c.id == int(job.id)))
    shutil.rmtree(pen_training.default_cache() / "runs" / _safe(job.url) / job.id, ignore_errors=True)
