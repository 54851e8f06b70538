"""The drawing store, against a real SQLite file and a real PostgreSQL server, with real MNIST digits."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

from mnist_app.store import drawings
from mnist_app.store.drawings import DrawingStore, StoreError
from mnist_app.store.visitors import NOBODY, Visitor, old_writer

import last_release
from scaffold import ROOT, require

SECRET = "s3cret-pw"
ABC = Visitor.of("abc")
ME_SECRET, THEIR_SECRET = "Kq3xY0-secret-of-the-first-visitor", "Zz9-secret-of-the-second-visitor"


def unzipped(data: bytes) -> bytes:
    """Every member of a zip archive, its bytes one after another: to search an .npz for a text."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    return b"".join(archive.read(name) for name in archive.namelist())


@pytest.fixture
def store(store_url):
    opened = DrawingStore(store_url)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def digits(mnist_sample) -> tuple[np.ndarray, np.ndarray]:
    """Real MNIST test digits as the models read them: (n, 28, 28) float32 in [0, 1], and their labels."""
    return mnist_sample.x_test.astype(np.float32) / 255.0, mnist_sample.y_test.astype(np.int64)


def png_of(digit: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray((digit * 255).astype(np.uint8)).resize((280, 280)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_saved_drawing_reads_back_exactly_as_saved(store, digits):
    images, labels = digits
    probs = {"numpy-mlp": np.eye(10)[labels[0]] * 0.9 + 0.01, "keras-cnn": np.full(10, 0.1)}
    canvas = png_of(images[0])
    new_id = store.add(
        images[0], labels[0], canvas_png=canvas, predictions=probs, model="keras-cnn", brush=18, visitor=ABC
    )
    (saved,) = store.fetch([new_id])
    np.testing.assert_array_equal(saved.digit, images[0])
    assert saved.label == labels[0] and saved.canvas_png == canvas and saved.model == "keras-cnn"
    assert saved.brush == 18 and (saved.owner, saved.writer, saved.shared) == (ABC.owner, ABC.writer, True)
    assert set(saved.predictions) == {"numpy-mlp", "keras-cnn"}
    np.testing.assert_allclose(saved.predictions["numpy-mlp"], probs["numpy-mlp"])
    assert saved.created_at.utcoffset().total_seconds() == 0
    assert abs((drawings.datetime.now(drawings.UTC) - saved.created_at).total_seconds()) < 600


def test_optional_fields_may_be_left_out_and_the_stores_own_random_owner_is_given(store, digits):
    images, labels = digits
    (saved,) = store.fetch([store.add(images[1], labels[1])])
    assert saved.canvas_png is None and saved.predictions == {} and saved.model is None and saved.brush is None
    assert len(saved.owner) == 64 and len(saved.writer) == 16 and saved.shared


def test_export_gives_float32_images_and_int64_labels_oldest_first(store, digits):
    images, labels = digits
    for image, label in zip(images[:12], labels[:12], strict=True):
        store.add(image, label)
    exported_images, exported_labels = store.export()
    assert exported_images.shape == (12, 28, 28) and exported_images.dtype == np.float32
    assert exported_labels.shape == (12,) and exported_labels.dtype == np.int64
    np.testing.assert_array_equal(exported_images, images[:12])
    np.testing.assert_array_equal(exported_labels, labels[:12])


def test_an_empty_store_exports_empty_arrays_of_the_right_shape(store):
    images, labels = store.export()
    assert images.shape == (0, 28, 28) and images.dtype == np.float32
    assert labels.shape == (0,) and labels.dtype == np.int64
    assert store.count() == 0 and store.counts() == dict.fromkeys(range(10), 0)


def test_the_dataset_keeps_each_drawings_writer(store, digits):
    images, labels = digits
    hands = [Visitor.of(f"s{i}") for i in range(3)]
    ids = [store.add(images[i], labels[i], visitor=hands[i % 3]) for i in range(6)]
    drawn = store.dataset()
    assert drawn.ids.tolist() == ids
    assert drawn.writers.tolist() == [hands[i % 3].writer for i in range(6)]


def test_delete_removes_one_drawing_and_says_when_there_was_none(store, digits):
    images, labels = digits
    keep, gone = store.add(images[0], labels[0]), store.add(images[1], labels[1])
    assert store.delete(gone).ids == [gone]
    assert not store.delete(gone)
    assert store.count() == 1 and [d.id for d in store.page()] == [keep]


def test_pages_list_newest_first_and_filter_by_label(store, digits):
    images, labels = digits
    ids = [store.add(images[i], labels[i]) for i in range(30)]
    assert [d.id for d in store.page(0, 10)] == ids[::-1][:10]
    assert [d.id for d in store.page(10, 10)] == ids[::-1][10:20]
    assert [d.id for d in store.page(25, 10)] == ids[::-1][25:]
    wanted = int(labels[0])
    assert [d.id for d in store.page(0, 100, label=wanted)] == [
        i for i, y in zip(ids, labels[:30], strict=True) if y == wanted
    ][::-1]
    assert store.count(wanted) == int((labels[:30] == wanted).sum())


def test_counts_per_label_and_the_revision_follow_every_add_and_delete(store, digits):
    images, labels = digits
    ids = [store.add(images[i], labels[i]) for i in range(20)]
    assert store.counts() == {d: int((labels[:20] == d).sum()) for d in range(10)}
    assert store.revision() == (20, ids[-1])
    store.delete(ids[-1])
    after_delete = store.revision()
    assert after_delete == (19, ids[-2])
    store.add(images[0], labels[0])  # never reuses the deleted id: the revision differs from before the delete
    assert store.revision()[0] == 20 and store.revision()[1] > ids[-1]


BAD_INPUTS = {
    "label 10": dict(label=10),
    "label -1": dict(label=-1),
    "label 3.0": dict(label=3.0),
    "label True": dict(label=True),
    "label '3'": dict(label="3"),
    "shape (27, 28)": dict(digit=np.zeros((27, 28), np.float32)),
    "shape (784,)": dict(digit=np.zeros(784, np.float32)),
    "shape (1, 28, 28)": dict(digit=np.zeros((1, 28, 28), np.float32)),
    "NaN": dict(digit=np.where(np.eye(28) > 0, np.nan, 0.0)),
    "infinity": dict(digit=np.full((28, 28), np.inf)),
    "above 1": dict(digit=np.full((28, 28), 255.0)),
    "below 0": dict(digit=np.full((28, 28), -0.5)),
    "text": dict(digit=np.full((28, 28), "a")),
    "9 probabilities": dict(predictions={"m": [0.1] * 9}),
    "NaN probability": dict(predictions={"m": [float("nan")] * 10}),
    "probability 2": dict(predictions={"m": [2.0] * 10}),
    "not a PNG": dict(canvas_png=b"GIF89a..."),
    "brush 0": dict(brush=0),
    "no visitor": dict(visitor="abc"),
    "empty owner": dict(visitor=Visitor("", "w")),
    "shared as text": dict(shared="no"),
    "a number without a place": dict(number="a1b2"),
    "place 0 in a number": dict(number=("a1b2", 0)),
    "a number's id of symbols": dict(number=("'; drop", 1)),
    "a number's id too long": dict(number=("a" * 17, 1)),
}


@pytest.mark.parametrize("bad", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_raises_value_error_and_writes_nothing(store, digits, bad):
    images, labels = digits
    arguments = {"digit": images[0], "label": int(labels[0]), **bad}
    with pytest.raises(ValueError):
        store.add(arguments.pop("digit"), arguments.pop("label"), **arguments)
    assert store.count() == 0


def test_a_digit_of_a_number_keeps_the_number_it_was_written_in_and_its_place(store, digits):
    images, labels = digits
    ids = [store.add(images[k], int(labels[k]), number=("5eed", k + 1)) for k in range(3)]
    alone = store.add(images[3], int(labels[3]))
    drawn = store.fetch([*ids, alone])
    assert [(d.number, d.place) for d in drawn] == [("5eed", 1), ("5eed", 2), ("5eed", 3), (None, None)]


def test_the_schema_version_is_recorded(store):
    assert store.schema_version() == drawings.SCHEMA_VERSION


@pytest.mark.parametrize("version", [1, 2])
def test_a_store_of_the_last_releases_is_upgraded_and_keeps_every_drawing(store_url, digits, version):
    images, labels = digits[0][:40], digits[1][:40]
    last_release.write_store(store_url, version, images, labels)
    store = DrawingStore(store_url)
    assert store.schema_version() == drawings.SCHEMA_VERSION
    kept = store.dataset()
    np.testing.assert_array_equal(kept.images, images)
    assert kept.labels.tolist() == labels.tolist()
    assert kept.writers.tolist()[:3] == [old_writer(s) for s in ("s0", "s1", "s2")]  # pseudonyms, not the old ids
    assert len(set(kept.uids.tolist())) == 40  # each drawing got its own uid
    assert store.page(0, 1)[0].predictions == {"numpy-mlp": [0.1] * 10}
    store.add(images[0], labels[0])  # and the upgraded store takes new drawings
    assert store.count() == 41
    store.close()


def test_opening_an_upgraded_store_again_changes_nothing(store_url, digits):
    last_release.write_store(store_url, 2, digits[0][:5], digits[1][:5])
    first = DrawingStore(store_url).dataset()
    again = DrawingStore(store_url).dataset()
    assert again.uids.tolist() == first.uids.tolist() and again.ids.tolist() == first.ids.tolist()


@pytest.mark.parametrize("newer", ["alembic", "legacy"])
def test_a_newer_schema_is_refused_and_says_to_update_mnist_app(store_url, newer):
    if newer == "legacy":  # a store of a release before Alembic, claiming a version this one does not know
        last_release.write_store(store_url, 99, np.zeros((0, 28, 28)), np.zeros(0))
    else:
        DrawingStore(store_url).close()
        engine = sa.create_engine(store_url)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
        engine.dispose()
    with pytest.raises(StoreError, match="newer than this mnist-app knows .* update mnist-app") as raised:
        DrawingStore(store_url)
    assert "newer mnist-app" in raised.value.for_visitors and "sqlite" not in raised.value.for_visitors


def test_a_foreign_drawings_table_is_refused(store_url):
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE drawings (id INTEGER PRIMARY KEY, name VARCHAR(10))")
    engine.dispose()
    with pytest.raises(StoreError, match="not an mnist-app store"):
        DrawingStore(store_url)


def test_sqlite_runs_in_wal_mode(tmp_path, digits):
    store = DrawingStore(f"sqlite:///{tmp_path / 'd.sqlite'}")
    store.add(digits[0][0], digits[1][0])
    with sqlite3.connect(tmp_path / "d.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_a_corrupt_file_raises_store_error_naming_it(tmp_path):
    path = tmp_path / "drawings.sqlite"
    path.write_bytes(b"this is not a database" * 300)
    with pytest.raises(StoreError, match=f"{path}.*damaged or not a database"):
        DrawingStore(f"sqlite:///{path}")


def test_a_truncated_database_raises_store_error(tmp_path, digits):
    path = tmp_path / "drawings.sqlite"
    store = DrawingStore(f"sqlite:///{path}")
    for i in range(50):
        store.add(digits[0][i], digits[1][i], canvas_png=png_of(digits[0][i]))
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = path.read_bytes()
    path.write_bytes(raw[:100] + b"\xff" * 4096 + raw[4196 : len(raw) // 2])  # header kept, pages smashed
    with pytest.raises(StoreError, match="drawing store at sqlite"):
        damaged = DrawingStore(f"sqlite:///{path}")
        damaged.export()


READ_ONLY_CHECK = """
import json, sys
from mnist_app.store.drawings import DrawingStore, StoreError
results = {}
for name, url in (("new", sys.argv[1]), ("existing", sys.argv[2])):
    try:
        DrawingStore(url).add(__import__("numpy").zeros((28, 28), "float32"), 1)
        results[name] = "saved"
    except StoreError as exc:
        results[name] = str(exc)
print(json.dumps(results))
"""


def test_a_read_only_folder_raises_store_error_saying_what_to_fix(digits):
    folder = Path(tempfile.mkdtemp(prefix="mnist-app-ro-"))
    existing = folder / "existing"
    existing.mkdir()
    DrawingStore(f"sqlite:///{existing / 'drawings.sqlite'}").close()
    for path in (existing / "drawings.sqlite", existing, folder):
        path.chmod(0o555)
    command = [sys.executable, "-c", READ_ONLY_CHECK, f"sqlite:///{folder / 'drawings.sqlite'}"]
    command.append(f"sqlite:///{existing / 'drawings.sqlite'}")
    if os.geteuid() == 0:  # root writes anywhere: run the store without root's capabilities
        require(shutil.which("setpriv") is not None, "setpriv (util-linux) is needed to drop root's rights")
        command = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--", *command]
    try:
        result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        for path in (folder, existing):
            path.chmod(0o755)
        shutil.rmtree(folder)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    for name in ("new", "existing"):
        assert outcome[name].startswith("cannot "), outcome
        assert "must be able to write" in outcome[name]


def test_an_unreachable_server_raises_store_error_with_the_password_hidden():
    url = f"postgresql+psycopg://mnist:{SECRET}@127.0.0.1:1/drawings"  # nothing listens on port 1
    with pytest.raises(StoreError) as raised:
        DrawingStore(url)
    message = str(raised.value)
    assert SECRET not in message and SECRET not in repr(raised.value)
    assert "postgresql+psycopg://mnist:***@127.0.0.1:1/drawings" in message
    assert "server running" in message


def test_a_wrong_password_raises_store_error_with_the_password_hidden(postgres_url):
    url = sa.make_url(postgres_url).set(password=SECRET)
    with pytest.raises(StoreError) as raised:
        DrawingStore(url.render_as_string(hide_password=False))
    assert SECRET not in str(raised.value) and "***" in str(raised.value)


def test_the_default_store_is_an_sqlite_file_in_the_users_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_APP_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    store = DrawingStore()
    assert store.url == f"sqlite:///{tmp_path / 'mnist-app' / 'drawings.sqlite'}"
    assert (tmp_path / "mnist-app" / "drawings.sqlite").is_file()
    store.close()


def test_mnist_app_db_chooses_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_APP_DB", f"sqlite:///{tmp_path / 'chosen.sqlite'}")
    DrawingStore().close()
    assert (tmp_path / "chosen.sqlite").is_file()


WRITER = """
import sys, threading
import numpy as np
from mnist_app.data import load_npz
from mnist_app.store.drawings import DrawingStore
from mnist_app.store.visitors import Visitor

url, process, threads, per_thread = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sample = load_npz("tests/data/mnist_sample.npz")
store = DrawingStore(url)
start = threading.Barrier(threads)
printing = threading.Lock()

def save(thread):
    start.wait()  # every thread of every process writes at the same moment
    for k in range(per_thread):
        n = (process * threads + thread) * per_thread + k
        digit, label = sample.x_test[n % 1000] / 255.0, int(sample.y_test[n % 1000])
        store.add(digit, label, visitor=Visitor.of(f"p{process}t{thread}"), model=f"writer-{n}")  # model: who wrote it
        if per_thread > 1000:
            with printing:  # one whole line per saved drawing: its add() has returned, so it is committed
                print(n, flush=True)

workers = [threading.Thread(target=save, args=(t,)) for t in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
"""


def test_four_processes_of_four_threads_saving_at_once_keep_every_row(store_url, mnist_sample):
    processes, threads, per_thread = 4, 4, 15
    DrawingStore(store_url).close()  # the schema exists before the writers start, as on a running server
    command = [sys.executable, "-c", WRITER, store_url]
    writers = [
        subprocess.Popen([*command, str(p), str(threads), str(per_thread)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for p in range(processes)
    ]
    errors = [w.communicate(timeout=300)[1] for w in writers]
    assert [w.returncode for w in writers] == [0] * processes, errors
    store = DrawingStore(store_url)
    drawn = store.dataset()
    total = processes * threads * per_thread
    assert len(drawn.ids) == total == store.count() and len(set(drawn.ids.tolist())) == total
    expected = {Visitor.of(f"p{p}t{t}").writer for p in range(processes) for t in range(threads)}
    assert set(drawn.writers.tolist()) == expected
    assert all((drawn.writers == s).sum() == per_thread for s in expected)
    assert sorted(drawn.labels.tolist()) == sorted(mnist_sample.y_test[:total].tolist())
    store.close()


def test_a_process_killed_while_saving_leaves_every_committed_row(store_url, mnist_sample):
    DrawingStore(store_url).close()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, store_url, "0", "2", "20000"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    committed = []
    try:
        for line in writer.stdout:
            committed.append(int(line))
            if len(committed) >= 60:
                break
    finally:
        writer.send_signal(signal.SIGKILL)  # mid-save: the threads are inside add() all the time
        writer.wait()
    committed += [int(line) for line in writer.stdout.read().split()]
    assert writer.returncode == -signal.SIGKILL
    store = DrawingStore(store_url)
    saved = {d.model for d in store.page(0, 10**6)}
    assert {f"writer-{n}" for n in committed} <= saved
    assert len(saved) == store.count() >= len(committed) >= 60
    store.add(mnist_sample.x_test[0] / 255.0, int(mnist_sample.y_test[0]))  # and it still takes new drawings
    assert store.count() == len(saved) + 1
    if store_url.startswith("sqlite"):
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()


def test_an_upgraded_stores_old_drawings_are_nobodys_so_no_old_visit_id_claims_them(store_url, digits):
    last_release.write_store(store_url, 2, digits[0][:6], digits[1][:6])
    store = DrawingStore(store_url)
    old_ids = store.dataset().ids.tolist()
    assert {d.owner for d in store.page(0, 10)} == {NOBODY} and all(d.shared for d in store.page(0, 10))
    for typed in ("s0", "s1", "s2"):  # the old public ids, as anyone who downloaded a file could type them
        claimed = Visitor.of(typed).owner
        assert store.count(owner=claimed) == 0 and store.dataset(owner=claimed).ids.tolist() == []
        assert not store.delete(old_ids, owner=claimed)
    assert store.delete(old_ids[0]).ids == [old_ids[0]]  # the admin (no owner) still may
    store.close()


def test_another_owner_can_neither_delete_nor_list_as_theirs_nor_teach_with_a_visitors_drawings(store, digits):
    images, labels = digits
    me, them = Visitor.of(ME_SECRET), Visitor.of(THEIR_SECRET)
    mine = [store.add(images[i], labels[i], visitor=me, shared=i % 2 == 0) for i in range(4)]
    assert store.dataset(owner=them.owner).ids.tolist() == [] and store.counts(owner=them.owner) == dict.fromkeys(
        range(10), 0
    )
    assert store.page(owner=them.owner) == [] and not store.delete(mine, owner=them.owner)
    assert store.dataset(owner=me.owner).ids.tolist() == mine  # the owner's own, private ones too
    assert sorted(d.id for d in store.page(owner=me.owner)) == mine and store.count() == 2  # the public set
    assert sorted(d.id for d in store.page(viewer=them.owner)) == mine[::2]  # others see the shared ones only
    assert sorted(d.id for d in store.page(viewer=me.owner)) == mine  # the owner sees their private ones among them
    assert store.dataset().ids.tolist() == mine[::2]  # what training reads: the public set
    assert store.delete(mine, owner=me.owner).ids == mine


def test_an_export_holds_no_secret_no_owner_key_and_no_private_drawing(store, digits, tmp_path):
    from mnist_app.store import files as drawing_files

    images, labels = digits
    me = Visitor.of(ME_SECRET)
    shared = store.add(images[0], labels[0], visitor=me)
    store.add(images[1], labels[1], visitor=me, shared=False)
    for fmt in drawing_files.FORMATS:
        data = drawing_files.as_bytes(store, fmt)
        raw = data if fmt == "csv" else unzipped(data)
        assert ME_SECRET.encode() not in raw and me.owner.encode() not in raw
        assert me.writer.encode() in raw  # the public pseudonym groups the hand
        path = tmp_path / f"drawings.{fmt}"
        path.write_bytes(data)
        assert [int(i) for batch in drawing_files.read(path) for i in batch.ids] == [shared]
