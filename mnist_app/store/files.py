"""Saved drawings as files, out and back in: an .npz of arrays (no pickle) or a CSV like MNIST's, streamed.

Writing reads the store in batches from one snapshot and writes as it reads; reading a file does the same, so a
million drawings never sit in memory. Each drawing keeps its uid, so importing a file into a store that already holds
its drawings (a backup restored twice, a move to PostgreSQL resumed) adds nothing twice. Files written before uids
(the .npz and CSV of the first store) get a uid from their content, so they too import once.

Files hold the public set only (shared drawings), each with its writer's pseudonym and never an owner key. A file of
an older release named each drawing's public visit id: reading it turns the id into a pseudonym the same one-way
way the store's migration does (visitors.old_writer), so an old file imports as the migrated store holds it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import BinaryIO

import numpy as np
import sqlalchemy as sa

from mnist_app.store.checks import FIELD
from mnist_app.store.drawings import DrawingStore
from mnist_app.store.rows import DrawnSet, drawn_set
from mnist_app.store.schema import DRAWINGS, MAX_NAME, UID_LENGTH
from mnist_app.store.visitors import old_writer

BATCH = 5_000  # drawings per read from the store or the file
FORMATS = ("npz", "csv")
PIXELS = [f"pixel{i}" for i in range(FIELD * FIELD)]
SMALL = {  # the .npz's arrays besides the images: dtype, and how a batch's values are taken
    "labels": "<i8",
    "ids": "<i8",
    "uids": f"S{UID_LENGTH}",
    "writers": f"S{4 * MAX_NAME}",  # UTF-8: at most 4 bytes a character
    "created_at": "<M8[us]",
}


@dataclass(frozen=True)
class Imported:
    """What an import did."""

    added: int
    skipped: int  # already in the store (the same uid)


def write(store: DrawingStore, file: BinaryIO, fmt: str, offset: int = 0, limit: int | None = None) -> int:
    """Writes the shared drawings (oldest first; `limit` of them from the `offset`-th, if given) to an open binary
    file in `fmt` ('npz' or 'csv'); returns how many."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    with store.reading("export the drawings from", snapshot=True) as conn:
        window = sa.select(DRAWINGS.c.id).where(DRAWINGS.c.shared == sa.true())
        window = window.order_by(DRAWINGS.c.id).offset(max(0, offset))
        window = window.limit(limit) if limit is not None else window
        n = conn.execute(sa.select(sa.func.count()).select_from(window.subquery())).scalar_one()
        columns = (DRAWINGS.c.id, DRAWINGS.c.digit, DRAWINGS.c.label, DRAWINGS.c.writer, DRAWINGS.c.uid)
        query = sa.select(*columns, DRAWINGS.c.created_at).where(DRAWINGS.c.id.in_(window.scalar_subquery()))
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query.order_by(DRAWINGS.c.id))
        batches = (drawn_set(rows) for rows in result.partitions(BATCH))
        (_write_npz if fmt == "npz" else _write_csv)(file, n, batches)
    return n


def as_bytes(store: DrawingStore, fmt: str, offset: int = 0, limit: int | None = None) -> bytes:
    """write() into memory: for a page's download of one part."""
    buffer = io.BytesIO()
    write(store, buffer, fmt, offset, limit)
    return buffer.getvalue()


def read(path: str | Path) -> Iterator[DrawnSet]:
    """The drawings of an .npz or CSV file written by `write` (or by the first store), in batches."""
    path = Path(path)
    with open(path, "rb") as file:
        zipped = file.read(4) == b"PK\x03\x04"
    yield from (_read_npz(path) if zipped else _read_csv(path))


def import_file(store: DrawingStore, path: str | Path) -> Imported:
    """Adds a file's drawings to the store, each batch in one transaction, leaving out those already there.
    A malformed file raises ValueError naming the problem; batches before it stay imported, and importing the
    file again, once fixed, adds only the rest."""
    added = skipped = 0
    for drawn in read(path):
        when = [t.replace(tzinfo=UTC) for t in drawn.created_at.astype("datetime64[us]").astype(object)]
        ids = store.add_many(
            drawn.images, drawn.labels, writers=list(drawn.writers), uids=list(drawn.uids),
            created_at=when, skip_known=True,
        )  # fmt: skip
        added, skipped = added + len(ids), skipped + len(drawn.ids) - len(ids)
    return Imported(added, skipped)


def _write_npz(file: BinaryIO, n: int, batches: Iterator[DrawnSet]) -> None:
    """The images stream into the archive as they are read; the small arrays go to temporary files meanwhile."""
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
        small = {name: open(os.path.join(scratch, name), "w+b") for name in SMALL}  # noqa: SIM115 (closed below)
        try:
            with archive.open("images.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array_header_2_0(member, _header("<f4", (n, FIELD, FIELD)))
                for drawn in batches:
                    member.write(drawn.images.astype("<f4").tobytes())
                    for name, dtype in SMALL.items():
                        small[name].write(_small(drawn, name).astype(dtype).tobytes())
            for name, dtype in SMALL.items():
                small[name].seek(0)
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array_header_2_0(member, _header(dtype, (n,)))
                    for chunk in iter(lambda f=small[name]: f.read(1 << 20), b""):
                        member.write(chunk)
        finally:
            for handle in small.values():
                handle.close()


def _small(drawn: DrawnSet, name: str) -> np.ndarray:
    if name in ("uids", "writers"):
        return np.array([s.encode() for s in getattr(drawn, name)], dtype=object)
    return getattr(drawn, name)


def _header(dtype: str, shape: tuple) -> dict:
    return {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape}


def _write_csv(file: BinaryIO, n: int, batches: Iterator[DrawnSet]) -> None:
    """One line per drawing: id, uid, label, writer, when (UTC), then the 784 pixels (0-255, row by row)."""
    text = io.TextIOWrapper(file, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["id", "uid", "label", "writer", "created_at", *PIXELS])
    for drawn in batches:
        pixels = np.rint(drawn.images.reshape(len(drawn.ids), -1) * 255).astype(np.uint8)
        for i, row in enumerate(pixels):
            fields = [int(drawn.ids[i]), drawn.uids[i], int(drawn.labels[i]), drawn.writers[i]]
            writer.writerow([*fields, str(drawn.created_at[i]), *row.tolist()])
    text.detach()  # leaves the caller's file open


def _read_npz(path: Path) -> Iterator[DrawnSet]:
    with zipfile.ZipFile(path) as archive:
        names = {Path(n).stem for n in archive.namelist()}
        if not {"images", "labels"} <= names:
            raise ValueError(f"{path.name}: an .npz of drawings holds images and labels, not only {sorted(names)}")
        members = {name: archive.open(f"{name}.npy") for name in names & {"images", "session_ids", *SMALL}}
        try:
            shapes = {name: _npy_header(member, name, path) for name, member in members.items()}
            n = shapes["images"][1][0]
            others = (shape for name, (_, shape) in shapes.items() if name != "images")
            if shapes["images"][1] != (n, FIELD, FIELD) or any(shape != (n,) for shape in others):
                raise ValueError(f"{path.name}: images must be (n, {FIELD}, {FIELD}) and every other array (n,)")
            for start in range(0, n, BATCH):
                count = min(BATCH, n - start)
                arrays = {name: _npy_rows(members[name], shapes[name], count, path) for name in members}
                yield _drawn_from(arrays, count)
        finally:
            for member in members.values():
                member.close()


def _npy_header(member, name: str, path: Path) -> tuple[np.dtype, tuple]:
    try:
        version = np.lib.format.read_magic(member)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(member)
    except ValueError as exc:
        raise ValueError(f"{path.name}: {name} is not a NumPy array ({exc})") from None
    if fortran or dtype.hasobject:
        raise ValueError(f"{path.name}: {name} must be a plain C-ordered array (no objects, no pickle)")
    return dtype, shape


def _npy_rows(member, header: tuple[np.dtype, tuple], count: int, path: Path) -> np.ndarray:
    dtype, shape = header
    per_row = dtype.itemsize * int(np.prod(shape[1:], dtype=np.int64))
    raw = member.read(per_row * count)
    if len(raw) != per_row * count:
        raise ValueError(f"{path.name}: the file ends early")
    return np.frombuffer(raw, dtype=dtype).reshape((count, *shape[1:]))


def _drawn_from(arrays: dict[str, np.ndarray], count: int) -> DrawnSet:
    """A batch from a file; what the file lacks (an old file's uids, times) is made up the same way each time."""
    images = arrays["images"].astype(np.float32)
    labels = arrays["labels"]
    old = _texts(arrays.get("session_ids"), count, None)  # an older release's public visit ids
    writers = _texts(arrays.get("writers"), count, None) or [old_writer(s) for s in old or ["imported"] * count]
    uids = _texts(arrays.get("uids"), count, None) or _content_uids(images, labels, old or ["imported"] * count)
    when = arrays.get("created_at", np.full(count, np.datetime64("1970-01-01T00:00:00", "us")))
    ids = arrays.get("ids", np.zeros(count, dtype=np.int64))
    writers, uids = np.array(writers, dtype=str), np.array(uids, dtype=str)
    return DrawnSet(ids.astype(np.int64), images, labels, writers, uids, when)


def _texts(array: np.ndarray | None, count: int, default: str | None) -> list[str] | None:
    if array is None:
        return None if default is None else [default] * count
    return [v.decode() if isinstance(v, bytes) else str(v) for v in array.tolist()]


def _content_uids(images: np.ndarray, labels, sessions: list[str]) -> list[str]:
    """A uid from what a drawing is: the same file gives the same uids, so it imports once."""
    return [
        hashlib.sha256(image.astype("<f4").tobytes() + f"{int(label)}:{session}".encode()).hexdigest()[:UID_LENGTH]
        for image, label, session in zip(images, labels, sessions, strict=True)
    ]


def _read_csv(path: Path) -> Iterator[DrawnSet]:
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if header is None or "label" not in header or header[-len(PIXELS) :] != PIXELS:
            raise ValueError(f"{path.name}: a CSV of drawings has a label column and then pixel0..pixel783")
        names = ("id", "uid", "label", "writer", "session_id", "created_at")
        at = {name: header.index(name) for name in names if name in header}
        rows: list[list[str]] = []
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise ValueError(f"{path.name}, line {line}: {len(row)} fields, the header has {len(header)}")
            rows.append(row)
            if len(rows) == BATCH:
                yield _csv_batch(rows, at, path)
                rows = []
        if rows:
            yield _csv_batch(rows, at, path)


def _csv_batch(rows: list[list[str]], at: dict[str, int], path: Path) -> DrawnSet:
    try:
        pixels = np.array([row[-len(PIXELS) :] for row in rows], dtype=np.int64)
        labels = np.array([row[at["label"]] for row in rows], dtype=np.int64)
    except ValueError as exc:
        raise ValueError(f"{path.name}: labels and pixels must be whole numbers ({exc})") from None
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"{path.name}: pixels must lie in 0-255")
    arrays = {"images": (pixels / 255).astype(np.float32).reshape(-1, FIELD, FIELD), "labels": labels}
    columns = {"ids": "id", "uids": "uid", "writers": "writer", "session_ids": "session_id"}
    dtypes = {"ids": np.int64, "uids": str, "writers": str, "session_ids": str, "created_at": "datetime64[us]"}
    for name, dtype in dtypes.items():
        column = columns.get(name, name)
        if column in at:
            arrays[name] = np.array([row[at[column]] for row in rows], dtype=dtype)
    return _drawn_from(arrays, len(rows))
