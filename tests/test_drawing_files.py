"""Saved drawings as files and back, streamed, on SQLite and PostgreSQL, with real MNIST digits."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from mnist_app import models
from mnist_app.store import cli as store_cli
from mnist_app.store import files as drawing_files
from mnist_app.store import readings
from mnist_app.store.drawings import DrawingStore


@pytest.fixture
def filled(store_url, mnist_sample):
    store = DrawingStore(store_url)
    images, labels = mnist_sample.x_test[:120] / 255.0, mnist_sample.y_test[:120]
    store.add_many(images, labels, writers=[f"visit-{i % 4}" for i in range(120)])
    yield store
    store.close()


@pytest.mark.parametrize("fmt", drawing_files.FORMATS)
def test_export_then_import_round_trips_and_importing_again_adds_nothing(filled, tmp_path, fmt):
    path = tmp_path / f"drawings.{fmt}"
    with open(path, "wb") as file:
        assert drawing_files.write(filled, file, fmt) == 120
    other = DrawingStore(f"sqlite:///{tmp_path / 'other.sqlite'}")
    assert drawing_files.import_file(other, path) == drawing_files.Imported(added=120, skipped=0)
    assert drawing_files.import_file(other, path) == drawing_files.Imported(added=0, skipped=120)
    before, after = filled.dataset(), other.dataset()
    np.testing.assert_allclose(after.images, before.images, atol=0.5 / 255 if fmt == "csv" else 0)
    assert after.labels.tolist() == before.labels.tolist()
    assert after.writers.tolist() == before.writers.tolist() and after.uids.tolist() == before.uids.tolist()
    assert after.created_at.tolist() == before.created_at.tolist()


def test_the_npz_holds_plain_arrays_that_numpy_reads_without_pickle(filled):
    data = np.load(io.BytesIO(drawing_files.as_bytes(filled, "npz")), allow_pickle=False)
    assert data["images"].shape == (120, 28, 28) and data["images"].dtype == np.float32
    assert data["labels"].tolist() == filled.dataset().labels.tolist()


def test_a_part_of_the_drawings_is_written_oldest_first(filled):
    data = np.load(io.BytesIO(drawing_files.as_bytes(filled, "npz", offset=100, limit=50)), allow_pickle=False)
    assert data["ids"].tolist() == filled.dataset().ids[100:].tolist()


def test_a_file_of_the_first_store_imports_once(tmp_path, mnist_sample):
    """The first store's .npz had images, labels, ids and session ids, and no uids."""
    path = tmp_path / "old.npz"
    images = (mnist_sample.x_test[:30] / 255.0).astype(np.float32)
    np.savez_compressed(path, images=images, labels=mnist_sample.y_test[:30].astype(np.int64),
                        ids=np.arange(1, 31), session_ids=np.array(["a"] * 30))  # fmt: skip
    store = DrawingStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    assert drawing_files.import_file(store, path).added == 30
    assert drawing_files.import_file(store, path).added == 0
    np.testing.assert_array_equal(store.dataset().images, images)


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"id,label\n1,2\n", "pixel0..pixel783"),
        (b"label," + ",".join(f"pixel{i}" for i in range(784)).encode() + b"\n3," + b"300," * 783 + b"0\n", "0-255"),
        (b"label," + ",".join(f"pixel{i}" for i in range(784)).encode() + b"\n12," + b"0," * 783 + b"0\n", "0-9"),
    ],
    ids=["no pixels", "pixel out of range", "label out of range"],
)
def test_a_malformed_csv_is_refused_naming_the_problem_and_adds_nothing(tmp_path, content, problem):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    store = DrawingStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    with pytest.raises(ValueError, match=problem):
        drawing_files.import_file(store, path)
    assert store.count() == 0


def test_an_npz_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as archive:
        buffer = io.BytesIO()
        np.save(buffer, np.array([object()] * 2, dtype=object), allow_pickle=True)
        archive.writestr("images.npy", buffer.getvalue())
        archive.writestr("labels.npy", buffer.getvalue())
    with pytest.raises(ValueError, match="no objects, no pickle"):
        list(drawing_files.read(path))


def test_add_many_refuses_bad_input_and_writes_nothing(tmp_path, mnist_sample):
    store = DrawingStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    images = mnist_sample.x_test[:3] / 255.0
    with pytest.raises(ValueError, match="labels"):
        store.add_many(images, [1, 2, 10])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        store.add_many(images * 2, [1, 2, 3])
    with pytest.raises(ValueError, match="writers"):
        store.add_many(images, [1, 2, 3], writers=["a", "b"])
    assert store.count() == 0


def test_the_command_line_exports_imports_rereads_and_prunes(filled, store_url, tmp_path, capsys):
    path = tmp_path / "all.npz"
    assert store_cli.main(["--db", store_url, "export", str(path)]) == 0
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    assert store_cli.main(["--db", other, "import", str(path)]) == 0
    assert store_cli.main(["--db", other, "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "120 drawings added" in out and "0 drawings added, 120 already there" in out
    assert store_cli.main(["--db", other, "reread"]) == 0
    assert "numpy-mlp (version" in capsys.readouterr().out
    opened = DrawingStore(other)  # readings of a version that today's models are not
    readings.fill(opened, "numpy-mlp", "an-old-version", models.load("numpy-mlp").predict_proba)
    opened.close()
    assert store_cli.main(["--db", other, "prune"]) == 0
    assert "120 readings of other model versions deleted" in capsys.readouterr().out
    assert store_cli.main(["--db", other, "import", str(tmp_path / "missing.npz")]) == 1
