"""Kept runs: networks trained on the Train page, or models taught a person's handwriting, that their maker chose to
keep, in the drawing store's database, so that other sessions, a restart and other app servers offer them too.

A kept run is its job record (what was trained, and how), its report, and its model folder as a zip archive:
weights as their kind saved them (.npz or .keras, an ensemble's members each in their folder), calibration and
reports. It loads as safely as a shipped model, through the same loaders: NumPy files without pickle, Keras files
in safe mode. A stored run that cannot be loaded raises ModelLoadError. Every visitor is offered every kept run; only
its owner (the owner key of the secret that made the run, visitors.py) may delete it.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from mnist_app.models import Model, ModelLoadError
from mnist_app.reports import ReportMissingError, Reports, read
from mnist_app.store.drawings import DrawingStore
from mnist_app.store.schema import KEPT_RUNS
from mnist_app.training.jobs import Job, job_from_record, load_model
from mnist_app.training.pipeline import MAX_ARCHIVE  # noqa: F401  (its limit, said here too)
from mnist_app.training.pipeline import unzip as _unzip
from mnist_app.training.pipeline import zipped as _zipped

SUMMARY = (KEPT_RUNS.c.id, KEPT_RUNS.c.created_at, KEPT_RUNS.c.label, KEPT_RUNS.c.owner)


@dataclass(frozen=True)
class KeptRun:
    """One kept run, without its model."""

    id: int
    created_at: datetime
    label: str
    owner: str  # an owner key: compare it, never show it

    @property
    def name(self) -> str:
        """What the Draw page calls it among the models."""
        return f"kept-{self.id}"


class KeptRuns:
    """The kept runs of a drawing store's database."""

    def __init__(self, store: DrawingStore):
        self.store = store

    def keep(self, job: Job, label: str | None = None) -> int:
        """Store a run that has a model; returns its id. ValueError if it has none."""
        if not job.has_model():
            raise ValueError(f"{job.label} has no trained network to keep ({job.status})")
        report = read(job.model_folder).report
        archive = _zipped(job.model_folder)
        row = {
            "created_at": datetime.now(UTC),
            "label": (label or f"{job.label}, {report['test']['accuracy']:.2%} on MNIST")[:256],
            "job": job.record(),
            "report": report,
            "archive": archive,
            "archive_sha256": hashlib.sha256(archive).hexdigest(),
            "owner": job.owner,
        }
        with self.store.writing("keep a run in") as conn:
            return int(conn.execute(KEPT_RUNS.insert().returning(KEPT_RUNS.c.id), row).scalar_one())

    def all(self) -> list[KeptRun]:
        """Every kept run, oldest first."""
        with self.store.reading("list the kept runs in") as conn:
            rows = conn.execute(sa.select(*SUMMARY).order_by(KEPT_RUNS.c.id)).all()
        return [KeptRun(r.id, _utc(r.created_at), r.label, r.owner) for r in rows]

    def reports(self, run_id: int) -> Reports:
        """The run's history, report and misread test digits; ModelLoadError if it is gone or unreadable."""
        with self._unpacked(run_id) as (_, folder):
            try:
                return read(folder)
            except ReportMissingError as exc:
                raise ModelLoadError(f"kept run #{run_id} cannot be read ({exc}): delete it") from exc

    def load(self, run_id: int) -> Model:
        """The kept model behind the model contract; ModelLoadError when it is gone or cannot be loaded."""
        with self._unpacked(run_id) as (row, folder):
            try:
                model = load_model(job_from_record(row.job), folder)
            except Exception as exc:  # any reader's failure means the same here: this model is unusable
                raise ModelLoadError(f"kept run #{run_id} ({row.label}) cannot be loaded: {exc}") from exc
        return Model(f"kept-{run_id}", model.network, model.temperature, model.unsure_below, title=row.label)

    def delete(self, run_id: int, owner: str | None) -> bool:
        """Remove a kept run of `owner`'s (any, for None: the admin); False when there was none such."""
        where = KEPT_RUNS.c.id == int(run_id)
        if owner is not None:
            where = sa.and_(where, KEPT_RUNS.c.owner == owner)
        with self.store.writing("delete a kept run from") as conn:
            return conn.execute(KEPT_RUNS.delete().where(where)).rowcount > 0

    @contextmanager
    def _unpacked(self, run_id: int) -> Iterator[tuple]:
        """(its row, a temporary folder holding its model folder); ModelLoadError if gone, damaged or too large."""
        columns = (KEPT_RUNS.c.label, KEPT_RUNS.c.job, KEPT_RUNS.c.archive, KEPT_RUNS.c.archive_sha256)
        with self.store.reading("read a kept run from") as conn:
            row = conn.execute(sa.select(*columns).where(KEPT_RUNS.c.id == int(run_id))).one_or_none()
        if row is None:
            raise ModelLoadError(f"kept run #{run_id} is no longer stored (deleted?)")
        if hashlib.sha256(row.archive).hexdigest() != row.archive_sha256:
            raise ModelLoadError(f"kept run #{run_id} ({row.label}) is damaged: its model does not match its hash")
        with tempfile.TemporaryDirectory() as scratch:
            try:
                _unzip(row.archive, Path(scratch))
            except (zipfile.BadZipFile, ValueError, OSError) as exc:
                raise ModelLoadError(f"kept run #{run_id} ({row.label}) cannot be unpacked: {exc}") from exc
            yield row, Path(scratch)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite keeps no zone: it was stored as UTC
