"""Does the drawing store hold a million drawings? Issue 27's goals, measured on SQLite or PostgreSQL.

    python benchmarks/drawings_page.py --count 1000000                  # a fresh SQLite file in a temp folder
    python benchmarks/drawings_page.py --count 1000000 --db URL         # a PostgreSQL URL of an empty database
    python benchmarks/drawings_page.py --count 20000                    # a quick run
    python benchmarks/drawings_page.py --unread-only                    # step 5 alone (drawings_page-unread-*.json)

1. Fill: `count` real MNIST digits (train and test, 70,000, repeated) in about 1,000 sessions, by add_many in
   batches, each with the readings of every shipped model's current version. Each model reads the 70,000 digits once
   and each batch gets its digits' rows: the stored readings are those models' real outputs. No canvas PNGs (the
   page shows the 28x28 digit instead). Also: a 50,000-drawing add_many without readings, into a fresh store.
2. A new model version: readings.fill for each shipped model, on a fresh store of the first 20,000 drawings.
3. The Drawings page in Chromium, on a fresh `streamlit run app.py` (3 times), each time a new visitor (nothing cached):
   from navigating to /drawings until its first screen shows (the title, the filters, the gallery's pictures and
   '#id' captions), and until the figures below the gallery show too (the accuracy table, two charts). Then a gallery
   page turn and the filters (misread by the NumPy network, then digit 3), each until the new '#id' captions show.
4. The server's memory with the store, against a server with an empty store that opened the same page.
5. Unread (issue 36): a fresh server opens the page on the 50,000 drawings of step 1's store without readings, as
   after a store was saved by other models: until its first screen shows, and until every shipped model has read
   them all (the readings made behind the page, polled from the store).
6. Saves: 16 threads each store 20 drawings at once (DrawingStore.add with a canvas PNG and 4 models' readings):
   the store's part of the Draw page's save (the models' reading and the PNG encoding are left out). Each thread first
   saves one drawing untimed, which opens its connection, as a running server's pool has them open.

Scratch stores (steps 1-4) are SQLite files in the temp folder, or schemas created (and dropped) in the --db database
(its user needs CREATE there); the --db store itself is left as filled.
Prints a table and writes benchmarks/results/drawings_page-<sqlite|postgresql>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from PIL import Image

from mnist_app import models
from mnist_app.data import load_mnist
from mnist_app.store import readings
from mnist_app.store.drawings import DrawingStore
from mnist_app.store.rows import canvas_png

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test scaffolding lives with the tests
from mnist_app.store.visitors import Visitor
from mnist_app.ui.cache import WARM_UP_AFTER_S

from scaffold import ROOT, chromium, opened_option, rss_mib, server_log_problems, streamlit_server

RESULTS = ROOT / "benchmarks" / "results"
GOALS = {  # issue 27
    "add_many, drawings/s (SQLite)": 5_000,
    "new version's readings, NumPy network, drawings/s": 2_000,
    "page opens, s": 2.0,
    "page turn or filter, s": 1.0,
    "memory over an empty store's, MiB": 100,
    "save p95, ms": 50,
    "unread drawings, first screen, s": 2.0,  # issue 36
    "unread drawings, every model has read them, s": 120,
}


NOTES = [
    "The fill stores no canvas PNGs (the gallery shows the 28x28 digit instead); the saves in step 5 carry one.",
    "Every drawing has the readings of today's version of each shipped model, so the page makes none: opening it "
    "needs the models' versions (a hash of their files), never the models. app.py starts loading the models "
    "(TensorFlow) in a background thread 3 s after the first page's script has run (WARM_UP_AFTER_S), once that "
    "page's browser is done fetching; it was over before the turns and filters were timed.",
    "PostgreSQL: VACUUM ANALYZE after the fill, as autovacuum does while a store grows.",
    "The saves time DrawingStore.add only (one store shared by the threads, as by a server's sessions): the models' "
    "reading and the PNG encoding of the Draw page's save are left out. Each thread's first save, which opens its "
    "connection, is not timed. The threads share one Python process, which a save keeps busy for about 1 ms: the "
    "saves queue on its one core (Python's GIL) more than on the database.",
    "Chromium, the app servers and the benchmark share the machine's CPUs with whatever else runs (the load average).",
]


@dataclass(frozen=True)
class Config:
    count: int = 1_000_000  # drawings in the store
    db: str | None = None  # PostgreSQL URL of an empty database; None: a fresh SQLite file
    batch: int = 20_000  # drawings per add_many
    sessions: int = 1_000  # visits the drawings come from
    bare: int = 50_000  # drawings in the add_many without readings
    new_version: int = 20_000  # drawings a new model version reads
    repeats: int = 3  # each page timing, and fresh servers
    page_number: int = 20_000  # the gallery page turned to (the middle page in a smaller store)
    savers: int = 16  # threads saving at once
    saves_each: int = 20


@dataclass(frozen=True)
class Digits:
    """MNIST, train then test: (70000, 28, 28) float32 in [0, 1] and (70000,) int64."""

    images: np.ndarray
    labels: np.ndarray


def mnist_digits(count: int) -> Digits:
    """The first `count` (at most all 70,000) of MNIST's digits."""
    mnist = load_mnist()
    images = np.concatenate([mnist.x_train, mnist.x_test])[:count].astype(np.float32) / 255.0
    return Digits(images, np.concatenate([mnist.y_train, mnist.y_test])[:count].astype(np.int64))


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# ---- stores


class Stores:
    """The benchmark's store and scratch stores: SQLite files in a folder, or PostgreSQL schemas it drops at the end."""

    def __init__(self, db: str | None, folder: Path):
        self.db, self.folder, self.schemas = db, folder, []
        self.bare: str | None = None  # the store of drawings without readings, once filled
        self.main = db or f"sqlite:///{folder / 'drawings.sqlite'}"
        self.dialect = sa.make_url(self.main).get_backend_name()

    def scratch(self, name: str) -> str:
        """The URL of a fresh, empty store."""
        if self.db is None:
            return f"sqlite:///{self.folder / f'{name}.sqlite'}"
        schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        self._sql(f"CREATE SCHEMA {schema}")
        self.schemas.append(schema)
        # libpq's options put the store's tables in that schema (as tests/conftest.py's store_url)
        return sa.make_url(self.db).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)

    def drop_scratch(self) -> None:
        for schema in self.schemas:
            self._sql(f"DROP SCHEMA {schema} CASCADE")

    def _sql(self, statement: str) -> None:
        engine = sa.create_engine(self.db)
        with engine.begin() as conn:
            conn.exec_driver_sql(statement)
        engine.dispose()


def store_mib(store: DrawingStore, url: str) -> float:
    """The store's size on disk: the SQLite file and its WAL, or the PostgreSQL tables with their indexes."""
    if store.dialect == "sqlite":
        path = Path(sa.make_url(url).database)
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()) / 2**20
    query = (
        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
    )
    with store.reading("measure") as conn:
        return int(conn.exec_driver_sql(query).scalar_one()) / 2**20


def vacuum_analyze(store: DrawingStore) -> float:
    """PostgreSQL: VACUUM ANALYZE of the store's tables, as autovacuum does while a store grows; seconds taken."""
    start = time.perf_counter()
    with store.connection("vacuum") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE drawings, readings")
    return time.perf_counter() - start


# ---- step 1: fill


def model_readings(digits: Digits) -> tuple[dict[tuple[str, str], np.ndarray], dict[str, float]]:
    """{(model, version): (70000, 10) probabilities} of every shipped model present, and each one's digits/s."""
    found, rates = {}, {}
    for name in models.available():
        model = models.load(name)
        start = time.perf_counter()
        found[name, models.version(name)] = np.concatenate(
            [model.predict_proba(digits.images[i : i + 5_000]) for i in range(0, len(digits.images), 5_000)]
        )
        rates[name] = len(digits.images) / (time.perf_counter() - start)
        log(f"{name} read the {len(digits.images):,} MNIST digits: {rates[name]:,.0f} digits/s")
    return found, rates


def add_batches(store: DrawingStore, digits: Digits, config: Config, count: int, read: dict | None) -> float:
    """Stores `count` drawings (MNIST repeated) by add_many, `config.batch` at a time; returns drawings/s."""
    start, reported = time.perf_counter(), 0.0
    for first in range(0, count, config.batch):
        k = np.arange(first, min(count, first + config.batch))
        rows = k % len(digits.images)
        sessions = [f"bench-{s}" for s in k * config.sessions // max(count, config.count)]
        batch_readings = {key: p[rows] for key, p in (read or {}).items()}
        store.add_many(digits.images[rows], digits.labels[rows], writers=sessions, readings=batch_readings)
        seconds = time.perf_counter() - start
        if seconds - reported > 30 or k[-1] + 1 == count:
            reported = seconds
            log(f"  {k[-1] + 1:,} of {count:,} drawings stored, {(k[-1] + 1) / seconds:,.0f}/s")
    return count / (time.perf_counter() - start)


# ---- step 2: a new model version


def new_version_rates(url: str, digits: Digits, config: Config, read: dict) -> dict[str, float]:
    """Drawings/s of readings.fill for each shipped model under a fresh version, on a store of `new_version`
    drawings that already holds today's versions' readings."""
    store = DrawingStore(url)
    add_batches(store, digits, config, config.new_version, read)
    rates = {}
    for name in models.available():
        model, version = models.load(name), f"bench-{int(time.time())}"  # 16 characters, as a version
        start = time.perf_counter()
        made = readings.fill(store, name, version, model.predict_proba)
        rates[name] = made / (time.perf_counter() - start)
        log(f"readings of a new {name} version: {made:,} drawings, {rates[name]:,.0f}/s")
    store.close()
    return rates


# ---- steps 3 and 4: the page in Chromium, the server's memory

# the gallery shows these drawings ('#id' captions, their pictures loaded); on the way, when the page's title and the
# gallery's captions first showed (ms from navigation, in __shown)
GALLERY_SHOWS = r"""(ids) => {
    const now = performance.now(), shown = (window.__shown ||= {});
    const mark = (name, yes) => { if (yes && !(name in shown)) shown[name] = now; return yes; };
    const captions = document.querySelectorAll("[data-testid='stMarkdownContainer']");
    const text = [...captions].map((e) => e.innerText).join(" ");
    const pictures = [...document.querySelectorAll("[data-testid='stMarkdownContainer'] img[alt^='Drawing #']")];
    mark("title", document.querySelector("h1") !== null);
    const captioned = mark("captions", ids.every((id) => new RegExp(`#${id}(?!\\d)`).test(text)));
    return pictures.length >= ids.length && pictures.every((p) => p.complete && p.naturalWidth > 0) && captioned;
}"""
# below the gallery: the accuracy table, and the confusion matrix and the counts per digit drawn by the browser
FIGURES_SHOW = r"""() => document.querySelector("[data-testid='stTable']") !== null
    && document.querySelectorAll("[data-testid='stVegaLiteChart'] :is(canvas, svg)").length >= 2
"""
TIMELINE = r"""() => ({
    "Streamlit's own page loaded": performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
    "the script's first output (the title)": window.__shown.title,
    "the gallery's captions": window.__shown.captions,
})"""
TIMEOUT_MS = 300_000  # a million drawings on 2 busy cores: a slow answer is measured, not failed


def shown(page, ids: list[int]) -> None:
    page.wait_for_function(GALLERY_SHOWS, arg=ids, polling=20, timeout=TIMEOUT_MS)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(pid: int, seconds: float) -> float:
    """The share of one core the process uses over `seconds`."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


def wait_until_idle(pid: int, limit_s: float = 600) -> float:
    """Waits until the server uses under 5% of a core for 3 s (the models' warm-up, which starts WARM_UP_AFTER_S after
    the first page, is done); returns the seconds waited."""
    start = time.perf_counter()
    time.sleep(WARM_UP_AFTER_S + 1.0)
    while cpu_share(pid, 3.0) > 0.05 and time.perf_counter() - start < limit_s:
        pass
    return time.perf_counter() - start


@contextmanager
def app_server(url: str, folder: Path) -> Iterator[tuple[str, int]]:
    """A fresh `streamlit run app.py` on the store (Train page off); yields (its URL, its pid)."""
    folder.mkdir(parents=True)
    env = {"MNIST_APP_DB": url, "MNIST_APP_TRAINING": "off"}
    with streamlit_server(folder / "server.log", env=env) as (address, process):
        yield address, process.pid


def first_screen(browser, address: str, first_ids: list[int]):
    """A new tab (a visitor with nothing cached) on /drawings; returns (the tab, when it was asked for, seconds until
    its first screen shows: the title, the filters and the gallery's pictures and captions)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    start = time.perf_counter()
    page.goto(f"{address}/drawings")
    shown(page, first_ids)
    return page, start, time.perf_counter() - start


def open_page(browser, address: str, first_ids: list[int]):
    """`first_screen`, then until the figures below the gallery show too; returns (the tab, seconds until the first
    screen, seconds until the figures)."""
    page, start, seconds = first_screen(browser, address, first_ids)
    page.wait_for_function(FIGURES_SHOW, polling=20, timeout=TIMEOUT_MS)
    return page, seconds, time.perf_counter() - start


def timeline(page) -> dict[str, float]:
    """When parts of the opening showed, in seconds from the navigation (on the tab's own clock)."""
    return {what: ms / 1000 for what, ms in page.evaluate(TIMELINE).items()}


def fresh_openings(browser, url: str, folder: Path, first_ids: list[int], config: Config) -> dict:
    """Opens the page on `repeats` fresh servers; seconds each, and each server's memory once the page was opened
    and the models' warm-up (started after the first page, app.py) was done."""
    seconds, whole, memory, timelines = [], [], [], []
    for k in range(config.repeats):
        with app_server(url, folder / f"server-{k}") as (address, pid):
            page, took, all_of_it = open_page(browser, address, first_ids)
            timelines.append(timeline(page))
            page.close()
            waited = wait_until_idle(pid)
            seconds.append(took)
            whole.append(all_of_it)
            memory.append(rss_mib(pid))
            log(f"page opened on a fresh server in {took:.2f} s, its figures too in {all_of_it:.2f} s; "
                f"{memory[-1]:.0f} MiB once idle ({waited:.0f} s later)")  # fmt: skip
    steps = {what: float(np.median([t[what] for t in timelines])) for what in timelines[0]}
    return {"seconds": seconds, "median_s": float(np.median(seconds)), "server_rss_mib": memory} | {
        "on the way, s from navigation (median)": steps,
        "the whole page, with the figures below the gallery, s": whole,
        "the whole page, median_s": float(np.median(whole)),
    }


def empty_store(browser, url: str, folder: Path) -> dict:
    """A fresh server with an empty store: seconds until its Drawings page shows (Streamlit's and the browser's part
    of any opening), and the server's memory once it went idle."""
    with app_server(url, folder) as (address, pid):
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        start = time.perf_counter()
        page.goto(f"{address}/drawings")
        page.get_by_text("No drawings are saved yet").wait_for()
        seconds = time.perf_counter() - start
        page.close()
        wait_until_idle(pid)
        return {"opening, fresh server, s": seconds, "server_rss_mib": rss_mib(pid)}


@dataclass(frozen=True)
class Expected:
    """The '#id' captions each view of the gallery shows first, asked from the store."""

    first: list[int]
    turns: dict[int, list[int]]  # page number -> ids
    misread: list[int]  # misread by the NumPy network
    misread_3: list[int]  # ... and a 3
    threes: list[int]


def expected(store: DrawingStore, numpy_version: tuple[str, str], config: Config) -> Expected:
    per_page = 24
    pages = -(-store.count() // per_page)
    base = max(2, min(config.page_number, pages // 2))
    turns = {p: [d.id for d in store.page((p - 1) * per_page, per_page)] for p in range(base, base + config.repeats)}
    return Expected(
        first=[d.id for d in store.page(0, per_page)],
        turns=turns,
        misread=[d.id for d in store.page(0, per_page, misread_by=numpy_version)],
        misread_3=[d.id for d in store.page(0, per_page, label=3, misread_by=numpy_version)],
        threes=[d.id for d in store.page(0, per_page, label=3)],
    )


def choose(page, label: str, option: str, ids: list[int]) -> float:
    """Picks an option of the gallery's selectbox; seconds from the click until the gallery shows `ids`."""
    option = opened_option(page, label, option)
    start = time.perf_counter()
    option.click()
    shown(page, ids)
    return time.perf_counter() - start


def turn(page, number: int, ids: list[int]) -> float:
    """Types a page number; seconds from Enter until the gallery shows `ids`."""
    box = page.get_by_label(re.compile(r"^Page \(of"))
    box.fill(str(number))
    start = time.perf_counter()
    box.press("Enter")
    shown(page, ids)
    return time.perf_counter() - start


def interactions(page, seen: Expected, numpy_label: str, config: Config) -> dict[str, list[float]]:
    """Page turns and filters, `repeats` times each, in seconds."""
    times: dict[str, list[float]] = {"page turn": [], "back to page 1": [], "misread by": [], "digit 3": []}
    for number, ids in seen.turns.items():
        times["page turn"].append(turn(page, number, ids))
        times["back to page 1"].append(turn(page, 1, seen.first))
        times["misread by"].append(choose(page, "Show", f"misread by {numpy_label}", seen.misread))
        times["digit 3"].append(choose(page, "Digit", "3", seen.misread_3))
        choose(page, "Show", "all drawings", seen.threes)
        choose(page, "Digit", "every digit", seen.first)
        log("  " + ", ".join(f"{what} {t[-1]:.2f} s" for what, t in times.items()))
    return times


def warm_server(browser, url: str, folder: Path, seen: Expected, config: Config) -> dict:
    """On one server, once its first page and the models' warm-up are done: another opening, the page turns and
    filters, the CPU an idle open tab costs (the progress fragment reruns every second), the memory afterwards."""
    numpy_label = models.label_of("numpy-mlp")
    with app_server(url, folder) as (address, pid):
        first, *_ = open_page(browser, address, seen.first)
        first.close()
        wait_until_idle(pid)
        page, again, _ = open_page(browser, address, seen.first)
        log(f"page opened again (server warm) in {again:.2f} s")
        times = interactions(page, seen, numpy_label, config)
        idle_tab = cpu_share(pid, 10.0)
        page.close()
        wait_until_idle(pid)
        memory = rss_mib(pid)
        problems = server_log_problems((folder / "server.log").read_text())
    result = {what: {"seconds": t, "median_s": float(np.median(t))} for what, t in times.items()}
    return result | {
        "opening, server warm (s)": again,
        "server CPU while one tab is open and idle (share of a core)": idle_tab,
        "server_rss_mib after the turns and filters": memory,
        "server log problems": problems,
    }


def page_calls(store: DrawingStore, versions: dict[str, str], seen: Expected) -> dict:
    """Each store call the Drawings page makes (every rerun makes them all, and the progress fragment its own every
    second), by name."""
    numpy_key = ("numpy-mlp", versions["numpy-mlp"])
    (turned, _), per_page = next(iter(seen.turns.items())), 24
    return {
        "store.counts (bar chart)": store.counts,
        "readings.progress, every model (fragment, every second)": lambda: [
            readings.progress(store, n, v) for n, v in versions.items()
        ],
        "readings.summary, every model (accuracy table)": lambda: [
            readings.summary(store, n, v) for n, v in versions.items()
        ],
        "readings.confusion, one model": lambda: readings.confusion(store, *numpy_key),
        "store.count (gallery's pages)": store.count,
        "store.page, page 1": lambda: store.page(0, per_page),
        f"store.page, page {turned:,}": lambda: store.page((turned - 1) * per_page, per_page),
        "readings.of_drawings, one page": lambda: readings.of_drawings(store, seen.first, versions),
        "store.count, misread by the NumPy network": lambda: store.count(misread_by=numpy_key),
        "store.page, misread by the NumPy network": lambda: store.page(0, per_page, misread_by=numpy_key),
        "store.count, 3s misread by it": lambda: store.count(3, misread_by=numpy_key),
        "store.page, 3s misread by it": lambda: store.page(0, per_page, label=3, misread_by=numpy_key),
    }


def query_times(store: DrawingStore, versions: dict[str, str], seen: Expected, config: Config) -> dict[str, float]:
    """Seconds (median of `repeats`) of each store call of the page, made from this process: the database's part."""
    times = {}
    for what, call in page_calls(store, versions, seen).items():
        seconds = []
        for _ in range(config.repeats):
            start = time.perf_counter()
            call()
            seconds.append(time.perf_counter() - start)
        times[what] = float(np.median(seconds))
        log(f"  {what}: {times[what]:.3f} s")
    return times


# ---- step 5: saves


def canvas_of(image: np.ndarray) -> bytes:
    """A 280 px RGBA canvas PNG of a digit, as the Draw page saves one."""
    grey = np.asarray(Image.fromarray((image * 255).astype(np.uint8)).resize((280, 280), Image.Resampling.BILINEAR))
    return canvas_png(np.dstack([grey, grey, grey, np.full_like(grey, 255)]))


def saves(store: DrawingStore, digits: Digits, read: dict, config: Config) -> dict:
    """`savers` threads, each storing `saves_each` drawings, all at once; the latency of each DrawingStore.add."""
    predictions = {name: p[0].tolist() for (name, _), p in read.items()}
    versions = {name: version for name, version in read}
    canvas = canvas_of(digits.images[0])
    start, latencies = threading.Barrier(config.savers), []

    def save(k: int) -> None:
        store.add(digits.images[0], int(digits.labels[0]), canvas_png=canvas, predictions=predictions,
                  versions=versions, model="numpy-mlp", brush=20, visitor=Visitor.of(f"saver-{k}"))  # fmt: skip

    def saver(k: int) -> None:
        save(k)  # untimed: opens this thread's connection, which a running server's pool keeps open
        start.wait()
        for _ in range(config.saves_each):
            begin = time.perf_counter()
            save(k)
            latencies.append(time.perf_counter() - begin)  # list.append is atomic

    threads = [threading.Thread(target=saver, args=(k,)) for k in range(config.savers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ms = np.array(latencies) * 1000
    percentiles = {f"p{q}_ms": float(np.percentile(ms, q)) for q in (50, 95, 99)}
    return {"saves": len(ms), **percentiles, "max_ms": float(ms.max()), "canvas_png_bytes": len(canvas)}


# ---- step 5: a store no model has read


def unread_opening(browser, url: str, folder: Path) -> dict:
    """A fresh server opens the page on a store of drawings without readings: seconds until its first screen shows
    (the gallery's pictures and captions), and until every shipped model's readings of all of them are in the store,
    made behind the page (polled from the store, as the page's progress does)."""
    store = DrawingStore(url)
    versions = {name: models.version(name) for name in models.available()}
    first_ids = [d.id for d in store.page(0, 24)]
    with app_server(url, folder) as (address, _):
        page, start, first = first_screen(browser, address, first_ids)
        log(f"the unread store's first screen in {first:.2f} s")
        read_all, behind = {}, dict(versions)
        while behind and time.perf_counter() - start < TIMEOUT_MS / 1000:
            for name, version in list(behind.items()):
                if readings.progress(store, name, version).complete:
                    read_all[name] = time.perf_counter() - start
                    log(f"  {name} has read every drawing, {read_all[name]:.1f} s after the page was asked for")
                    del behind[name]
            time.sleep(0.5)
        page.wait_for_function(FIGURES_SHOW, polling=20, timeout=TIMEOUT_MS)
        page.close()
        log_text = (folder / "server.log").read_text()
    count = store.count()
    store.close()
    return {
        "drawings": count,
        "first screen, s": first,
        "every model has read them, s": max(read_all.values(), default=None) if not behind else None,
        "each model has read them, s": read_all,
        "still unread after the time limit": sorted(behind),
        "server log problems": server_log_problems(log_text),
        "server log, last lines": log_text.splitlines()[-20:] if behind else [],
    }


# ---- the run


def fill_step(stores: Stores, digits: Digits, read: dict, config: Config) -> dict:
    store = DrawingStore(stores.main)
    if store.count():
        raise SystemExit(f"{store.url} already holds drawings: give an empty database (--db)")
    log(f"filling {store.url} with {config.count:,} drawings and {len(read)} models' readings")
    rate = add_batches(store, digits, config, config.count, read)
    result = {"add_many with readings, drawings/s": rate, "store size, MiB": store_mib(store, stores.main)}
    if store.dialect == "postgresql":
        result["VACUUM ANALYZE after the fill, s"] = vacuum_analyze(store)
    log(f"bare add_many of {config.bare:,} drawings into a fresh store")
    stores.bare = stores.scratch("bare")
    bare = DrawingStore(stores.bare)
    result["add_many without readings, drawings/s"] = add_batches(bare, digits, config, config.bare, None)
    bare.close()
    return result


def unread_step(url: str, folder: Path) -> dict:
    log("a fresh server opens the page on the store without readings")
    with chromium() as browser:
        return unread_opening(browser, url, folder / "server-unread")


def page_step(stores: Stores, store: DrawingStore, read: dict, config: Config, folder: Path) -> dict:
    numpy_key = next(key for key in read if key[0] == "numpy-mlp")
    seen, versions = expected(store, numpy_key, config), {name: version for name, version in read}
    log("the page's store calls, timed from here")
    result = {"store calls of the page, s (median)": query_times(store, versions, seen, config)}
    with chromium() as browser:
        log("opening the Drawings page on fresh servers")
        result["opening, fresh server"] = fresh_openings(browser, stores.main, folder, seen.first, config)
        log("page turns and filters")
        result |= warm_server(browser, stores.main, folder / "server-warm", seen, config)
        log("an empty store's server, for its memory")
        result["empty store"] = empty_store(browser, stores.scratch("empty"), folder / "server-empty")
    full = float(np.median(result["opening, fresh server"]["server_rss_mib"]))
    return result | {"server memory over an empty store's, MiB": full - result["empty store"]["server_rss_mib"]}


def run(config: Config, folder: Path) -> dict:
    stores = Stores(config.db, folder)
    digits = mnist_digits(config.count)
    read, predict_rates = model_readings(digits)
    results = {"fill": fill_step(stores, digits, read, config)}
    results["fill"]["models' reading of MNIST, digits/s"] = predict_rates
    try:
        log(f"readings of a new version of each model, on {config.new_version:,} drawings")
        results["new version's readings, drawings/s"] = new_version_rates(stores.scratch("fill"), digits, config, read)
        store = DrawingStore(stores.main)
        results["page"] = page_step(stores, store, read, config, folder)
        results["unread"] = unread_step(stores.bare, folder)
        log(f"{config.savers} threads saving {config.saves_each} drawings each")
        results["saves (the store's part: DrawingStore.add)"] = saves(store, digits, read, config)
        store.close()
    finally:
        stores.drop_scratch()
    return results


def unread_only(config: Config, folder: Path) -> dict:
    """Step 5 alone: `config.bare` MNIST digits stored without readings, then the page on a fresh server."""
    stores = Stores(config.db, folder)
    try:
        stores.bare = stores.scratch("bare")
        log(f"add_many of {config.bare:,} drawings without readings")
        store = DrawingStore(stores.bare)
        add_batches(store, mnist_digits(config.bare), config, config.bare, None)
        store.close()
        return {"unread": unread_step(stores.bare, folder)}
    finally:
        stores.drop_scratch()


# ---- the table


def table_rows(report: dict) -> list[tuple[str, str, str]]:
    """(what, figure, goal and verdict) for the table."""
    fill, page, new = report["fill"], report["page"], report["new version's readings, drawings/s"]
    save, sqlite = report["saves (the store's part: DrawingStore.add)"], report["database"] == "sqlite"
    rows = []
    for what in ("add_many with readings", "add_many without readings"):
        rate = fill[f"{what}, drawings/s"]
        goal = at_least(rate, GOALS["add_many, drawings/s (SQLite)"]) if sqlite else "(the goal is SQLite's)"
        rows.append((what, f"{rate:,.0f} drawings/s", goal))
    rows.append(("store size", f"{fill['store size, MiB']:,.0f} MiB", ""))
    for name, rate in new.items():
        goal = at_least(rate, GOALS["new version's readings, NumPy network, drawings/s"]) if name == "numpy-mlp" else ""
        rows.append((f"readings of a new {name} version", f"{rate:,.0f} drawings/s", goal))
    opening = page["opening, fresh server"]["median_s"]
    rows.append(("page opens, fresh server (median)", *at_most(opening, GOALS["page opens, s"], "s")))
    for what, seconds in page["opening, fresh server"]["on the way, s from navigation (median)"].items():
        rows.append((f"... {what}", f"{seconds:.2f} s", ""))
    whole = page["opening, fresh server"]["the whole page, median_s"]
    rows.append(("... the figures below the gallery too (median)", f"{whole:.2f} s", ""))
    rows.append(("page opens again, server warm", f"{page['opening, server warm (s)']:.2f} s", ""))
    rows.append(("page opens, empty store, fresh server", f"{page['empty store']['opening, fresh server, s']:.2f} s",
                 ""))  # fmt: skip
    for what in ("page turn", "back to page 1", "misread by", "digit 3"):
        rows.append((f"{what} (median)", *at_most(page[what]["median_s"], GOALS["page turn or filter, s"], "s")))
    over = page["server memory over an empty store's, MiB"]
    rows.append(("server memory over an empty store's", *at_most(over, GOALS["memory over an empty store's, MiB"],
                                                                 "MiB")))  # fmt: skip
    cpu = page["server CPU while one tab is open and idle (share of a core)"]
    rows.append(("server CPU, one idle open tab", f"{cpu:.0%} of a core", ""))
    rows.append(("save, p50", f"{save['p50_ms']:.1f} ms", ""))
    rows.append(("save, p95", *at_most(save["p95_ms"], GOALS["save p95, ms"], "ms")))
    if unread := report.get("unread"):
        rows.extend(unread_rows(unread))
    return rows


def unread_rows(unread: dict) -> list[tuple[str, str, str]]:
    first, every = unread["first screen, s"], unread["every model has read them, s"]
    rows = [(f"{unread['drawings']:,} unread drawings: first screen", *at_most(first, GOALS["unread drawings, first "
             "screen, s"], "s"))]  # fmt: skip
    goal = GOALS["unread drawings, every model has read them, s"]
    if every is None:
        rows.append(("... every model has read them", f"not within {TIMEOUT_MS / 1000:.0f} s", f"<= {goal} s: missed"))
    else:
        rows.append(("... every model has read them", *at_most(every, goal, "s")))
    return rows


def at_least(value: float, goal: float) -> str:
    return f">= {goal:,}/s: " + ("met" if value >= goal else f"missed by {(goal - value) / goal:.0%}")


def at_most(value: float, goal: float, unit: str) -> tuple[str, str]:
    """(figure, goal and verdict)"""
    verdict = "met" if value <= goal else f"missed by {(value - goal) / goal:.0%}"
    return f"{value:,.2f} {unit}", f"<= {goal:g} {unit}: {verdict}"


def print_table(report: dict) -> None:
    print(f"\n| {report['count']:,} drawings, {report['database']} | figure | goal |\n| --- | --- | --- |")
    for what, figure, goal in table_rows(report):
        print(f"| {what} | {figure} | {goal} |")
    print("\n| the page's store calls, from the benchmark's process | seconds (median) |\n| --- | --- |")
    for what, seconds in report["page"]["store calls of the page, s (median)"].items():
        print(f"| {what} | {seconds:.3f} |")
    print("\nSaves time the store's part of a save (DrawingStore.add), 16 threads at once.")
    for note in NOTES:
        print(f"- {note}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=Config.count, help="drawings in the store (default 1,000,000)")
    parser.add_argument("--db", help="a PostgreSQL URL of an empty database (default: a fresh SQLite file)")
    parser.add_argument("--unread-only", action="store_true", help="step 5 alone, on 50,000 drawings without readings")
    args = parser.parse_args(argv)
    config = Config(count=args.count, db=args.db)
    started, load = datetime.now(UTC), os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        results = unread_only(config, Path(tmp)) if args.unread_only else run(config, Path(tmp))
    dialect = sa.make_url(config.db).get_backend_name() if config.db else "sqlite"
    if args.unread_only:
        path = RESULTS / f"drawings_page-unread-{dialect}.json"
        path.write_text(json.dumps({"date": started.isoformat(timespec="seconds"), "database": dialect,
                                    "machine": {"cpus": os.cpu_count(), "load average at start (1, 5, 15 min)": load},
                                    "goals": GOALS} | results, indent=1) + "\n")  # fmt: skip
        for row in unread_rows(results["unread"]):
            print("| " + " | ".join(row) + " |")
        print(f"\nwrote {path.relative_to(ROOT)}")
        return
    report = {
        "count": config.count,
        "database": dialect,
        "date": started.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load average at start (1, 5, 15 min)": load},
        "config": asdict(config) | {"db": dialect},
        "notes": NOTES,
        "goals": GOALS,
    } | results
    path = RESULTS / f"drawings_page-{dialect}.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    print_table(report)
    print(f"\nwrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
