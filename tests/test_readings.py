"""Readings as data: written at save, made for a new model version by one process at a time, and counted by the
database, against a real SQLite file and a real PostgreSQL server, with real MNIST digits and the shipped models."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command

from mnist_app import models
from mnist_app.reports import metrics
from mnist_app.store import readings, schema
from mnist_app.store.drawings import DrawingStore
from mnist_app.store.schema import READINGS
from mnist_app.store.visitors import Visitor

from scaffold import ROOT

NAME = "numpy-mlp"


@pytest.fixture(scope="module")
def model():
    return models.load(NAME)


@pytest.fixture(scope="module")
def digits(mnist_sample):
    return mnist_sample.x_test[:600].astype(np.float32) / 255.0, mnist_sample.y_test[:600].astype(np.int64)


@pytest.fixture
def store(store_url):
    opened = DrawingStore(store_url)
    yield opened
    opened.close()


def test_a_drawing_saved_with_its_readings_is_read_by_those_versions(store, digits, model):
    images, labels = digits
    probabilities = model.predict_proba(images[:1])[0].tolist()
    drawing = store.add(images[0], labels[0], predictions={NAME: probabilities}, versions={NAME: "v1"})
    assert readings.progress(store, NAME, "v1") == readings.Progress(1, 1)
    assert readings.of_drawings(store, [drawing], {NAME: "v1"}) == {drawing: {NAME: int(np.argmax(probabilities))}}
    assert readings.progress(store, NAME, "v2") == readings.Progress(0, 1)  # another version has not read it


def test_a_version_without_predictions_is_refused(store, digits):
    with pytest.raises(ValueError, match="without predictions"):
        store.add(digits[0][0], digits[1][0], versions={NAME: "v1"})
    assert store.count() == 0


def test_a_new_version_fills_in_every_missing_reading_once(store, digits, model):
    images, labels = digits
    store.add_many(images[:250], labels[:250])
    seen = []
    made = readings.fill(store, NAME, "v2", model.predict_proba, on_batch=seen.append, batch=100)
    assert made == 250 and [p.done for p in seen] == [100, 200, 250]
    assert readings.fill(store, NAME, "v2", model.predict_proba) == 0  # nothing left to make
    store.add_many(images[250:260], labels[250:260])  # saved by a server that did not know this version
    assert readings.fill(store, NAME, "v2", model.predict_proba) == 10
    assert readings.progress(store, NAME, "v2") == readings.Progress(260, 260)


def test_the_aggregates_equal_a_rereading_of_every_drawing(store, digits, model):
    images, labels = digits
    given = labels.copy()
    given[:20] = (given[:20] + 1) % 10  # some saved under a wrong label, so that there is something to misread
    store.add_many(images, given)
    readings.fill(store, NAME, "v1", model.predict_proba)
    predicted = model.predict_proba(images).argmax(axis=1)
    summary = readings.summary(store, NAME, "v1")
    assert summary.read == 600 and summary.right == int((predicted == given).sum())
    np.testing.assert_array_equal(readings.confusion(store, NAME, "v1"), metrics.confusion_matrix(given, predicted))
    misread = store.dataset().ids[predicted != given]
    assert store.count(misread_by=(NAME, "v1")) == len(misread)
    assert [d.id for d in store.page(0, 1000, misread_by=(NAME, "v1"))] == misread[::-1].tolist()
    three = int(given[0])
    only = misread[given[predicted != given] == three]
    assert [d.id for d in store.page(0, 1000, misread_by=(NAME, "v1"), label=three)] == only[::-1].tolist()


def test_a_deleted_drawing_takes_its_readings_and_an_undo_brings_them_back(store, digits, model):
    images, labels = digits
    ids = store.add_many(images[:5], labels[:5], readings={(NAME, "v1"): model.predict_proba(images[:5])})
    removed = store.delete(int(ids[0]))
    assert readings.summary(store, NAME, "v1").read == 4
    assert store.restore(removed) == 1 and store.restore(removed) == 0  # an undo twice puts it back once
    assert (
        readings.summary(store, NAME, "v1").read == 5
        and store.fetch([int(ids[0])])[0].uid == removed.drawings[0]["uid"]
    )


def test_only_a_visits_own_drawings_are_deleted_when_the_visit_is_named(store, digits):
    images, labels = digits
    me, them = Visitor.of("me"), Visitor.of("them")
    mine = store.add(images[0], labels[0], visitor=me)
    theirs = store.add(images[1], labels[1], visitor=them)
    assert not store.delete(theirs, owner=me.owner) and store.count() == 2
    assert store.delete(mine, owner=me.owner).ids == [mine]


FILLER = """
import sys, time
import numpy as np
from mnist_app import models
from mnist_app.store import readings
from mnist_app.store.drawings import DrawingStore

model = models.load("numpy-mlp")

def slow(images):  # slow enough that the processes overlap
    time.sleep(0.05)
    return model.predict_proba(images)

made = readings.fill(DrawingStore(sys.argv[1]), "numpy-mlp", "v-shared", slow, batch=50)
print("busy" if made is None else made)
"""


def test_one_filler_at_a_time_across_processes(store, store_url, digits):
    images, labels = digits
    store.add_many(images, labels)
    fillers = [
        subprocess.Popen([sys.executable, "-c", FILLER, store_url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    said = [f.communicate(timeout=300)[0].strip() for f in fillers]
    made = [int(s) for s in said if s != "busy"]
    assert sum(made) == 600 and "busy" in said  # the others found the lock taken, none made a reading twice
    assert readings.progress(store, NAME, "v-shared") == readings.Progress(600, 600)


def test_a_filler_that_died_leaves_its_sqlite_lease_to_the_next_one(tmp_path, digits, model, monkeypatch):
    """(PostgreSQL ends an advisory lock with its holder's connection: nothing outlives a dead filler there.)"""
    store = DrawingStore(f"sqlite:///{tmp_path / 'drawings.sqlite'}")
    images, labels = digits
    store.add_many(images[:10], labels[:10])
    monkeypatch.setattr(readings, "LEASE_S", -1.0)  # an SQLite lease that has already run out, as a dead holder's
    with readings._lock(store, f"readings:{NAME}:v1") as held:
        assert held
        assert readings.fill(store, NAME, "v1", model.predict_proba) == 10


def stored_confusion(store: DrawingStore, model: str, version: str) -> np.ndarray:
    """The confusion matrix counted from the readings themselves, for the kept counts to be checked against."""
    matrix = np.zeros((10, 10), dtype=np.int64)
    with store.reading("check") as conn:
        rows = conn.execute(
            sa.select(READINGS.c.label, READINGS.c.predicted).where(
                READINGS.c.model == model, READINGS.c.version == version
            )
        )
        for label, predicted in rows:
            matrix[label, predicted] += 1
    return matrix


def test_the_kept_counts_follow_every_save_fill_delete_and_undo(store, digits, model):
    images, labels = digits
    given = labels.copy()
    given[:30] = (given[:30] + 3) % 10  # wrong labels, so that the matrix has cells off its diagonal
    ids = store.add_many(images[:300], given[:300], readings={(NAME, "v1"): model.predict_proba(images[:300])})
    for i in range(300, 310):
        store.add(images[i], int(given[i]), predictions={NAME: model.predict_proba(images[i : i + 1])[0].tolist()},
                  versions={NAME: "v1"})  # fmt: skip
    store.add_many(images[310:], given[310:])
    readings.fill(store, NAME, "v1", model.predict_proba, batch=100)
    readings.fill(store, NAME, "v2", model.predict_proba, batch=100)
    removed = store.delete(ids[:50].tolist())
    store.delete(ids[50:60].tolist())
    store.restore(removed)
    for version in ("v1", "v2"):
        kept = readings.confusion(store, NAME, version)
        np.testing.assert_array_equal(kept, stored_confusion(store, NAME, version))
        assert kept.sum() == 590 and readings.summary(store, NAME, version).right == np.trace(kept)
        assert store.count(misread_by=(NAME, version)) == kept.sum() - np.trace(kept)
        assert store.count(misread_by=(NAME, version), label=3) == kept[3].sum() - kept[3, 3]


def test_a_store_of_the_last_release_gets_its_readings_counted(store_url, digits, model):
    """A store at schema 3 (readings, no counts) is upgraded to counts equal to its readings."""
    images, labels = digits
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(schema._config(conn), "0003")
        old = sa.table("drawings", *map(sa.column, ("id", "created_at", "label", "uid", "digit", "session_id")))
        conn.execute(
            old.insert(),
            [
                {"id": i + 1, "created_at": datetime.now(UTC), "label": int(labels[i]), "uid": f"{i:032x}"}
                | {"digit": images[i].astype("<f4").tobytes(), "session_id": "s"}
                for i in range(100)
            ],
        )
        predicted = model.predict_proba(images[:100]).argmax(axis=1)
        conn.execute(
            READINGS.insert(),
            [
                {"model": NAME, "version": "v1", "drawing_id": i + 1, "label": int(labels[i])}
                | {"predicted": int(predicted[i]), "confidence": 0.5}
                for i in range(100)
            ],
        )
    engine.dispose()
    store = DrawingStore(store_url)
    assert store.schema_version() == schema.SCHEMA_VERSION  # brought up to today's schema
    np.testing.assert_array_equal(
        readings.confusion(store, NAME, "v1"), metrics.confusion_matrix(labels[:100], predicted)
    )
    store.close()


def test_pruning_deletes_the_readings_of_other_versions_and_keeps_todays(store, digits, model):
    images, labels = digits
    probabilities = model.predict_proba(images[:40])
    store.add_many(images[:40], labels[:40], readings={(NAME, "old"): probabilities, (NAME, "today"): probabilities})
    assert readings.prune(store, {NAME: "today"}) == 40
    assert readings.progress(store, NAME, "old").done == 0 and store.count(misread_by=(NAME, "old")) == 0
    assert readings.progress(store, NAME, "today").done == 40
    np.testing.assert_array_equal(readings.confusion(store, NAME, "today"), stored_confusion(store, NAME, "today"))
    assert readings.prune(store, {NAME: "today"}) == 0
