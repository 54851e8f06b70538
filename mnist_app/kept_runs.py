"""Kept runs: networks trained on the Train page that their trainer chose to keep, in the drawing store's database,
so that other sessions, a restart and other app servers offer them too.

A kept run is the run's config, history, report, the test digits it gets wrong, and its weights file's bytes as
its kind saved them (.npz or .keras). It loads as safely as a shipped model: NumPy files without pickle, Keras
files in safe mode, through its kind's own loader; a stored run that cannot be loaded raises ModelLoadError.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from .contract import HISTORY_KEYS
from .drawings import KEPT_RUNS, DrawingStore
from .kinds import KINDS
from .models import Model, ModelLoadError
from .reports import Reports, read, read_misclassified
from .training_jobs import Job, kind_of_config

SUMMARY = (KEPT_RUNS.c.id, KEPT_RUNS.c.created_at, KEPT_RUNS.c.label, KEPT_RUNS.c.network, KEPT_RUNS.c.session_id)


@dataclass(frozen=True)
class KeptRun:
    """One kept run, without its weights."""

    id: int
    created_at: datetime
    label: str
    network: str
    session_id: str

    @property
    def name(self) -> str:
        """What the Draw page calls it among the models."""
        return f"kept-{self.id}"


class KeptRuns:
    """The kept runs of a drawing store's database."""

    def __init__(self, store: DrawingStore):
        self.store = store

    def keep(self, job: Job, label: str | None = None) -> int:
        """Store a run that has a trained network; returns its id. ValueError if it has none."""
        if not job.has_model():
            raise ValueError(f"{job.label} has no trained network to keep ({job.status})")
        kind = kind_of_config(job.config())
        weights = (job.model_folder / kind.weights_file).read_bytes()
        shown = read(job.model_folder)
        label = label or f"{job.label}, {shown.report['test']['accuracy']:.2%} on MNIST"
        row = {
            "created_at": datetime.now(UTC),
            "label": label[:256],
            "network": job.network,
            "kind": kind.name,
            "config": shown.report["config"],
            "history": {key: shown.history[key] for key in HISTORY_KEYS},
            "report": shown.report,
            "weights": weights,
            "weights_sha256": hashlib.sha256(weights).hexdigest(),
            "gallery": (job.model_folder / "misclassified.npz").read_bytes(),
            "session_id": job.session,
        }
        with self.store._errors("keep a run in"), self.store._writing() as conn:
            return int(conn.execute(KEPT_RUNS.insert().returning(KEPT_RUNS.c.id), row).scalar_one())

    def all(self) -> list[KeptRun]:
        """Every kept run, oldest first."""
        with self.store._errors("list the kept runs in"), self.store._engine.connect() as conn:
            rows = conn.execute(sa.select(*SUMMARY).order_by(KEPT_RUNS.c.id)).all()
        return [KeptRun(r.id, _utc(r.created_at), r.label, r.network, r.session_id) for r in rows]

    def reports(self, run_id: int) -> Reports:
        """The run's history, report and misread test digits, as the Diagnostics page reads a model's.
        ModelLoadError if it is gone or unreadable."""
        row = self._row(run_id, KEPT_RUNS.c.history, KEPT_RUNS.c.report, KEPT_RUNS.c.gallery)
        try:
            with tempfile.TemporaryDirectory() as scratch:
                (Path(scratch) / "misclassified.npz").write_bytes(row.gallery or b"")
                gallery = read_misclassified(Path(scratch))
            return Reports({k: list(row.history[k]) for k in HISTORY_KEYS}, dict(row.report), gallery)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelLoadError(f"kept run #{run_id} cannot be read ({exc}): delete it and keep it again") from exc

    def load(self, run_id: int) -> Model:
        """The kept network behind the model contract; ModelLoadError when it is gone or cannot be loaded."""
        row = self._row(run_id, KEPT_RUNS.c.label, KEPT_RUNS.c.kind, KEPT_RUNS.c.weights, KEPT_RUNS.c.weights_sha256)
        kinds = {kind.name: kind for kind in KINDS}
        if row.kind not in kinds or hashlib.sha256(row.weights).hexdigest() != row.weights_sha256:
            raise ModelLoadError(f"kept run #{run_id} ({row.label}) is damaged: its weights do not match their hash")
        kind = kinds[row.kind]
        try:
            with tempfile.TemporaryDirectory() as scratch:
                path = Path(scratch) / kind.weights_file
                path.write_bytes(row.weights)
                network = kind.code().load_network(path)
        except Exception as exc:  # any reader's failure means the same here: these weights are unusable
            raise ModelLoadError(f"kept run #{run_id} ({row.label}) cannot be loaded: {exc}") from exc
        return Model(f"kept-{run_id}", network, title=row.label)

    def delete(self, run_id: int) -> bool:
        """Remove a kept run; False when there was none with that id."""
        with self.store._errors("delete a kept run from"), self.store._writing() as conn:
            return conn.execute(KEPT_RUNS.delete().where(KEPT_RUNS.c.id == int(run_id))).rowcount > 0

    def _row(self, run_id: int, *columns):
        with self.store._errors("read a kept run from"), self.store._engine.connect() as conn:
            row = conn.execute(sa.select(*columns).where(KEPT_RUNS.c.id == int(run_id))).one_or_none()
        if row is None:
            raise ModelLoadError(f"kept run #{run_id} is no longer stored (deleted?)")
        return row


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite keeps no zone: it was stored as UTC
