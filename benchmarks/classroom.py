"""A class presses Train at once (issue 37): STUDENTS visitors each queue the Train page's default run through the
page's own code path (training.jobs.submit, as ui/train.py's Train button does), against the embedded engine, and
against a `dask scheduler` with 1 and then 2 `dask worker`s of one CPU each, on this machine. With a scheduler,
BROWSERS of them press Train on the real page instead, in Chromium, on a `streamlit run app.py` sent to the same
scheduler, and must see their result there (the embedded engine is each server's own, so there they all use the API).

Writes, per engine: the time from the presses to the last result, each student's wait until their run started
(p50, p95), every run's MNIST test accuracy, a lone run and two at once on the workers; and the scaling of the
class's time from 1 to 2 workers. And the machine's own ceiling for that scaling: the default run's fit in plain
processes of one thread each (no engine), one alone and then two at once.

    MNIST_DATA=../shared/mnist python benchmarks/classroom.py          # writes benchmarks/results/classroom.json
    MNIST_DATA=../shared/mnist python benchmarks/classroom.py --students 6 --only 1,2   # a quick look
    python benchmarks/classroom.py --only embedded --out benchmarks/results/classroom-embedded.json   # the laptop
    python benchmarks/classroom.py --only ceiling                     # the machine's own 1 -> 2 scaling, ~1 minute
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa

RESULTS = Path(__file__).resolve().parent / "results" / "classroom.json"


def wait_all(started: list, url: str, seconds: float) -> list:
    from mnist_app.training import jobs

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        runs = [jobs.read(job.id, url, with_progress=False) for job in started]
        if all(run.status not in jobs.ACTIVE for run in runs):
            return runs
        time.sleep(0.5)
    raise SystemExit(f"classroom.py: runs still training after {seconds:.0f} s")


def times(url: str) -> dict[str, tuple]:
    """Each run's (created, started, ended) as the store recorded them."""
    from mnist_app.store.schema import TRAINING_RUNS
    from mnist_app.training import jobs

    t = TRAINING_RUNS.c
    with jobs.store(url).reading("read the runs in") as conn:
        rows = conn.execute(sa.select(t.id, t.created_at, t.started_at, t.ended_at)).all()
    return {str(r.id): (r.created_at, r.started_at, r.ended_at) for r in rows}


def press(students: int, url: str, timeout: float, pages: list | None = None) -> dict:
    """`students` visitors press Train at once on the default recipe, `pages` of them (open Train pages, in
    Chromium) on the page itself; what came of it."""
    from mnist_app.models import ModelLoadError  # noqa: F401  (imports the models before the clock starts)
    from mnist_app.store.visitors import Visitor, new_secret
    from mnist_app.training import jobs, settings

    pages = pages or []
    owners = [Visitor.of(new_secret()).owner for _ in range(students - len(pages))]
    values, data = settings.defaults("numpy"), settings.DataSettings()
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        submitted = [pool.submit(jobs.submit, "numpy", values, data, owner, url=url) for owner in owners]
        for page in pages:  # Playwright's pages answer the thread that opened them: pressed here, meanwhile
            page.get_by_role("button", name="Train", exact=True).click()
        started = [future.result() for future in submitted]
    while len(started) < students and time.perf_counter() - start < timeout:  # the pages' runs, once queued
        time.sleep(0.2)
        started = jobs.list_jobs(url=url)
    visitors = [(page.context, page.url) for page in pages]
    for page in pages:  # the students look away: a live page redraws its charts, and here it shares the workers' CPUs
        page.close()
    runs = wait_all(started, url, timeout)
    total = time.perf_counter() - start
    shown = sum(showed_result(context, address) for context, address in visitors)  # ... and come back to them
    when = times(url)
    waits = [(when[r.id][1] - when[r.id][0]).total_seconds() for r in runs if when[r.id][1]]
    trains = [(when[r.id][2] - when[r.id][1]).total_seconds() for r in runs if when[r.id][1] and when[r.id][2]]
    accuracy = [
        json.loads((r.model_folder / "report.json").read_text())["test"]["accuracy"] if r.has_model() else None
        for r in runs
    ]
    return {
        "students": students,
        "last_result_s": round(total, 1),
        "wait_p50_s": round(float(np.percentile(waits, 50)), 1) if waits else None,
        "wait_p95_s": round(float(np.percentile(waits, 95)), 1) if waits else None,
        "run_s_median": round(float(np.median(trains)), 1) if trains else None,
        "statuses": sorted({r.status for r in runs}),
        "accuracy_min": min((a for a in accuracy if a is not None), default=None),
        "accuracy": accuracy,
        "on_the_page": len(pages),
        "page_showed_its_result": shown,
    }


def engine_run(label: str, students: int, workers: int | None, folder: Path, timeout: float, browsers: int = 0) -> dict:
    """One class against the embedded engine (workers None) or a scheduler with `workers` workers, `browsers` of
    them through the page."""
    from mnist_app.training import engine

    started = []
    if workers:
        port = 8786 + workers * 10
        address = f"tcp://127.0.0.1:{port}"
        dask = str(Path(sys.executable).with_name("dask"))
        env = os.environ | dict(engine.ONE_THREAD) | engine.WORKER_ENV  # as docs/deploy.md starts them
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
        started.append(subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port)], **quiet))
        time.sleep(3)
        for n in range(workers):
            worker = [dask, "worker", address, "--nthreads", "1", "--resources", "train=1", "--name", f"w{n}"]
            started.append(subprocess.Popen(worker, **quiet))
        os.environ["MNIST_APP_CLUSTER"] = address
    else:
        os.environ.pop("MNIST_APP_CLUSTER", None)
    try:
        deadline = time.monotonic() + 60
        while engine.workers() < (workers or engine.local_workers()) and time.monotonic() < deadline:
            time.sleep(0.5)
        result = {"engine": label, "workers": engine.workers()}
        result["warm_up"] = press(1, f"sqlite:///{folder / f'{label}-warm.sqlite'}", timeout)["last_result_s"]
        result["lone"] = press(1, f"sqlite:///{folder / f'{label}-lone.sqlite'}", timeout)
        result["two_at_once"] = press(2, f"sqlite:///{folder / f'{label}-two.sqlite'}", timeout)
        class_url = f"sqlite:///{folder / f'{label}-class.sqlite'}"
        with train_pages(browsers if workers else 0, class_url, folder) as pages:
            result["class"] = press(students, class_url, timeout, pages)
        print(label, {k: v for k, v in result.items() if k != "class"}, result["class"]["last_result_s"], flush=True)
        return result
    finally:
        engine.stop()
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=30)


def fit_default_run() -> None:
    """In a plain process of one thread: fit and write the Train page's default run, as a worker would, with no
    engine around it."""
    from mnist_app.data import load_mnist
    from mnist_app.training import pipeline, settings

    config = settings.to_config("numpy", settings.defaults("numpy"), settings.DataSettings())
    mnist = load_mnist()
    data = pipeline.training_data(mnist, config, None, 0, workers=1)
    with tempfile.TemporaryDirectory() as scratch:
        pipeline.fit_and_write(
            config, data, Path(scratch) / "model", mnist, name="ceiling", about={}, measure_drawn=True
        )


def ceiling() -> dict:
    """The machine's own scaling for this work: one default run's fit alone, then two at once in plain processes
    (imports and MNIST's load included in both), each held to one thread as the engine's workers are."""
    from mnist_app.training import engine

    env = os.environ | dict(engine.ONE_THREAD)
    command = [sys.executable, __file__, "--only", "fit"]

    def at_once(count: int) -> float:
        start = time.perf_counter()
        for process in [subprocess.Popen(command, env=env) for _ in range(count)]:
            if process.wait():
                raise SystemExit("classroom.py: a plain fit failed")
        return time.perf_counter() - start

    at_once(1)  # the disk's cache warmed
    alone, two = at_once(1), at_once(2)
    return {"alone_s": round(alone, 1), "two_at_once_s": round(two, 1), "scaling_1_to_2": round(2 * alone / two, 2)}


def showed_result(context, address: str) -> bool:
    """Whether the visitor's Train page, opened again, shows their run's result."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = context.new_page()
    page.goto(address)
    try:
        page.get_by_text(re.compile(r"MNIST test accuracy: \d+\.\d\d%")).wait_for(timeout=30_000)
        return True
    except PlaywrightTimeout:
        return False


@contextmanager
def train_pages(count: int, url: str, folder: Path):
    """`count` visitors' Train pages open in Chromium on a `streamlit run app.py` of the store at `url` and the
    engine in MNIST_APP_CLUSTER, ready to press Train; none for 0."""
    if not count:
        yield []
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test scaffolding lives there
    from scaffold import chromium, streamlit_server

    env = {"MNIST_APP_DB": url, "MNIST_APP_CLUSTER": os.environ["MNIST_APP_CLUSTER"]}
    with streamlit_server(folder / "classroom-server.log", env=env) as (address, _), chromium() as browser:
        pages = []
        for _ in range(count):  # a context each: a visitor each
            page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{address}/train")
            page.get_by_role("button", name="Train", exact=True).wait_for()
            pages.append(page)
        yield pages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30, help="visitors pressing Train at once (default 30)")
    parser.add_argument(
        "--only",
        default="embedded,1,2,ceiling",
        help="which engines: embedded, scheduler worker counts, and the machine's ceiling (default all)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a class may take (default 1800)")
    parser.add_argument(
        "--browsers", type=int, default=3, help="students pressing Train on the page in Chromium (default 3)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"where to write (default {RESULTS.name})")
    args = parser.parse_args(argv)
    chosen = args.only.split(",")
    if chosen == ["fit"]:  # ceiling()'s plain process
        return fit_default_run()
    result = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    result["engines"] = []
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.setdefault("MNIST_APP_CACHE", str(Path(scratch) / "cache"))
        os.environ["MNIST_APP_RUNS_PER_VISITOR"] = "3"
        for which in chosen:
            if which == "ceiling":
                result["ceiling"] = ceiling()
                print("ceiling", result["ceiling"], flush=True)
                continue
            workers = None if which == "embedded" else int(which)
            label = "embedded" if workers is None else f"scheduler + {workers} worker{'s' * (workers > 1)}"
            run = engine_run(label, args.students, workers, Path(scratch), args.timeout, args.browsers)
            result["engines"].append(run)
            result["load"] = os.getloadavg()[0]
    by_workers = {e["engine"]: e["class"]["last_result_s"] for e in result["engines"]}
    if "scheduler + 1 worker" in by_workers and "scheduler + 2 workers" in by_workers:
        result["scaling_1_to_2"] = round(by_workers["scheduler + 1 worker"] / by_workers["scheduler + 2 workers"], 2)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "engines"}), f"written to {args.out}")


if __name__ == "__main__":
    main()
