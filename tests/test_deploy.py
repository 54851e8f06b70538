"""Several servers, for real: docs/deploy.md's nginx.conf in Debian's nginx, in front of two `streamlit run app.py`
servers that share one PostgreSQL schema, all on loopback.

16 browser sessions draw and save through nginx, which places each one on a server by its route cookie. Once every
session on one server has saved a drawing, that server is killed (SIGKILL) while the others are still drawing. The
other server's sessions go on in the same page; the killed server's sessions reload, land on the survivor and save
again. Every drawing a toast reported is in the database once, and nothing else is.

Then a class trains (issue 37): the same deployment with Train on, a `dask scheduler` and two `dask worker`s; four
students on the two servers press Train at once, a worker is killed mid-run, and every run still ends on its page.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mnist_app.store.drawings import DrawingStore

from scaffold import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NGINX,
    ROOT,
    SAMPLE,
    chromium,
    clear_async,
    dask_cluster,
    draw_and_save_async,
    free_port,
    log_tail,
    nginx_server,
    numpy_model_only,
    postgres_schema,
    readable_digits,
    require,
    rss_mib,
    server_log_problems,
    settle,
    settle_async,
    still_page,
    still_page_async,
    streamlit_server,
    tiny_pen_env,
)

pytestmark = [pytest.mark.deploy, pytest.mark.browser]
SESSIONS = 16
MODEL = "numpy-mlp"  # every session reads with it, the servers' only model: its digits are checked offline too
# Chromium resolves this name to 127.0.0.1: the websocket's Origin is then no loopback name that Streamlit allows
# anyway, so the test fails unless nginx passes the Host header as docs/deploy.md says
HOST = "draw.test"
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


@pytest.fixture
def shared_db(postgres_url) -> str:
    """A fresh schema of its own on the test PostgreSQL server, as the URL that both app servers are given."""
    with postgres_schema(postgres_url, "deploy") as url:
        yield url


def documented_conf(folder: Path, port: int, upstreams: list[str]) -> str:
    """The nginx.conf of docs/deploy.md with this test's ports, and its pid, logs and temp files in `folder`."""
    text = re.search(r"```nginx\n(.*?)```", (ROOT / "docs" / "deploy.md").read_text(), re.DOTALL).group(1)
    temp = "".join(f"    {kind}_temp_path {folder / kind};\n" for kind in TEMP_PATHS)
    swaps = [
        ("user www-data;", "user root;"),  # workers that can read pytest's private folder (ignored when not root)
        ("pid /run/nginx.pid;", f"pid {folder / 'nginx.pid'};"),
        ("/var/log/nginx/", f"{folder}/"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("127.0.0.1:8501", upstreams[0]),
        ("127.0.0.1:8502", upstreams[1]),
        ("http {\n", "http {\n" + temp),
    ]
    for old, new in swaps:
        assert old in text, f"docs/deploy.md's nginx.conf has no {old!r} any more: update this test"
        text = text.replace(old, new)
    return text


def upstreams_of(access_log: str, route: str) -> list[str]:
    """The servers that answered each request of one route, in the order they were logged ("a, b" when nginx
    tried a, then b)."""
    return re.findall(rf" route={route} upstream=(.*)$", access_log, re.MULTILINE)


@dataclass
class Visit:
    """One browser session: its route cookie, the server of its first page, and what it saved (id, label)."""

    route: str
    server: str
    saved: list[tuple[int, int]] = field(default_factory=list)


class Kill:
    """SIGKILLs one server once every session has landed and each one on that server has saved a drawing."""

    def __init__(self, process, victim: str, access_log: Path):
        self.process, self.victim, self.access_log = process, victim, access_log
        self.landed, self.victims, self.waiting = 0, 0, 0
        self.done = asyncio.Event()
        self.log_offset = 0  # how much of the access log was written before the kill

    def land(self, server: str) -> None:
        self.landed += 1
        self.victims += server == self.victim
        self._maybe()

    def wait_after_saving(self):
        self.waiting += 1
        self._maybe()
        return self.done.wait()

    def _maybe(self) -> None:
        if self.landed == SESSIONS and self.waiting == self.victims:
            self.now()

    def now(self) -> None:
        if not self.done.is_set():
            self.log_offset = self.access_log.stat().st_size
            self.process.kill()
            self.done.set()


async def open_draw_page(page, url: str | None = None) -> None:
    """Go to the Draw page (reload it when `url` is None) and wait for its empty canvas."""
    await (page.goto(url) if url else page.reload())
    await page.get_by_text("Draw a digit (0-9)").wait_for(timeout=120_000)
    await settle_async(page)


async def visit(browser, url: str, first, second, kill: Kill, folder: Path) -> Visit:
    """A browser session: draw and save `first`; then, on the killed server, reload once it is dead, else clear;
    then draw and save `second`. A session that fails leaves its screenshot in `folder`."""
    from playwright.async_api import expect

    page = await still_page_async(browser, {"width": 1280, "height": 1000})
    context = page.context
    page.set_default_timeout(180_000)  # 16 sessions on two servers and 2 busy cores: each waits its turn
    you = None
    try:
        await open_draw_page(page, url)
        route = next(c["value"] for c in await context.cookies() if c["name"] == "mnist_app_route")
        you = Visit(route, upstreams_of(kill.access_log.read_text(), route)[0])  # its first request: the page
        kill.land(you.server)
        you.saved.append((await draw_and_save_async(page, first), first.label))
        if you.server == kill.victim:
            await kill.wait_after_saving()
            await open_draw_page(page)
        else:
            await clear_async(page)
        you.saved.append((await draw_and_save_async(page, second), second.label))
        await expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=180_000)  # idle: leave
    except Exception as exc:
        kill.now()  # no session waits for one that failed
        shot, toasts = folder / f"failed-{uuid.uuid4().hex[:8]}.png", None
        with contextlib.suppress(Exception):  # the browser may be gone already
            await page.screenshot(path=shot)
            toasts = await page.evaluate("window.__toasts")
        raise AssertionError(f"{you} failed ({shot}, toasts {toasts}): {exc}") from exc
    finally:
        await context.close()
    return you


async def every_visit(url: str, pairs: list, kill: Kill, folder: Path) -> list[Visit | BaseException]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"]
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        try:
            visits = (visit(browser, url, first, second, kill, folder) for first, second in pairs)
            return await asyncio.gather(*visits, return_exceptions=True)
        finally:
            await browser.close()


def test_two_servers_behind_nginx_lose_nothing_when_one_is_killed_mid_run(tmp_path, shared_db):
    require(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium")
    require(Path(NGINX).exists(), f"{NGINX} is missing: apt-get install nginx")
    digits = readable_digits((MODEL,), per_label=2)
    # two different digits per session: a toast of the first save never passes for the second's
    pairs = [(digits[i % 10][i // 10], digits[(i + 5) % 10][i // 10]) for i in range(SESSIONS)]
    env = {"MNIST_APP_DB": shared_db, "MNIST_APP_TRAINING": "off"} | numpy_model_only(tmp_path)
    logs = [tmp_path / name / "server.log" for name in ("a", "b")]
    for log in logs:
        log.parent.mkdir()
    port, access_log = free_port(), tmp_path / "access.log"
    with streamlit_server(logs[0], env) as (url_a, a), streamlit_server(logs[1], env) as (url_b, b):
        servers = [url.removeprefix("http://") for url in (url_a, url_b)]
        with nginx_server(tmp_path, documented_conf(tmp_path, port, servers), port):
            kill = Kill(a, servers[0], access_log)
            visits = asyncio.run(every_visit(f"http://{HOST}:{port}/?model={MODEL}", pairs, kill, tmp_path))
        survivor_ran, memory = b.poll() is None, rss_mib(b.pid)
    store = DrawingStore(shared_db)
    drawn = store.dataset()
    store.close()

    failed = [str(v) for v in visits if isinstance(v, BaseException)]
    assert not failed, f"{failed}; the store holds (id, label): {list(zip(drawn.ids, drawn.labels, strict=True))}"
    moved = [v for v in visits if v.server == servers[0]]
    stayed = [v for v in visits if v.server == servers[1]]
    print(f"{len(moved)} sessions on the killed server, {len(stayed)} on the survivor, which holds {memory:.0f} MiB")
    assert moved and stayed  # nginx spread the sessions (all 16 on one server: well under 1 run in 1,000)
    assert kill.done.is_set() and a.poll() is not None and survivor_ran
    rows = {i: (label, session) for i, label, session in zip(drawn.ids, drawn.labels, drawn.session_ids, strict=True)}
    reported = [saved for v in visits for saved in v.saved]
    assert sorted(rows) == sorted(i for i, _ in reported)  # every reported save is a row, and no row is extra
    assert all(rows[i][0] == label for i, label in reported)
    for v in visits:  # every visitor is still themselves after the failover: their secret is in their browser's cookie
        (first, _), (second, _) = v.saved
        assert rows[first][1] == rows[second][1]

    log = access_log.read_text()
    before, after = log[: kill.log_offset], log[kill.log_offset :]
    for v in stayed:  # sticky: every request of a session, the websocket too, went to its server
        assert set(upstreams_of(log, v.route)) == {v.server}
    for v in moved:  # sticky until the kill; then the reload went on to the survivor
        assert set(upstreams_of(before, v.route)) == {v.server}
        assert any(u.endswith(servers[1]) for u in upstreams_of(after, v.route))
        assert all(u == v.server or u.endswith(servers[1]) for u in upstreams_of(after, v.route))
    assert server_log_problems(logs[1].read_text()) == []
    problems = [line for line in (tmp_path / "error.log").read_text().splitlines() if servers[0] not in line]
    assert [line for line in problems if re.search(r"\[(error|crit|alert|emerg)\]", line)] == []


# ---- a class trains: the same deployment with the engine's scheduler and two workers (issue 37)

STUDENTS_PER_SERVER = 2
DIGITS = 2_000  # of the sample's 5,000, each run's (the slider's second step)
EPOCHS = 20  # 3-6 s a run alone, tens of seconds beside four live pages; the kill comes within a second of two training


def set_slider(page, label: str, value: int, low: int, step: int) -> None:
    """A slider moved to its start, then on to `value`, with the keyboard; until its thumb says so: a key pressed
    while a loaded page redraws the slider is lost (one run of four once trained on all 60,000 digits)."""
    from playwright.sync_api import expect

    slider = page.get_by_role("slider", name=re.compile(rf"^{re.escape(label)}"))
    for _ in range(3):
        slider.focus()
        page.keyboard.press("Home")
        for _ in range((value - low) // step):
            page.keyboard.press("ArrowRight")
        if slider.input_value() == str(value):
            break
    expect(slider).to_have_value(str(value))


def students(browser, url: str, access_log: Path, servers: list[str]) -> list:
    """Browser sessions on the Train page through nginx, STUDENTS_PER_SERVER placed on each server (sessions that
    land on a server that has its share already are closed: nginx places a session by its route cookie)."""
    placed: dict[str, list] = {server: [] for server in servers}
    for _ in range(8 * STUDENTS_PER_SERVER):
        page = still_page(browser, {"width": 1280, "height": 1000})
        context = page.context
        page.set_default_timeout(180_000)
        page.goto(f"{url}/train")
        page.get_by_text("Set the knobs and press Train").wait_for()
        route = next(c["value"] for c in context.cookies() if c["name"] == "mnist_app_route")
        server = upstreams_of(access_log.read_text(), route)[0]
        if len(placed[server]) < STUDENTS_PER_SERVER:
            placed[server].append(page)
        else:
            context.close()
        if all(len(pages) == STUDENTS_PER_SERVER for pages in placed.values()):
            return [page for pages in placed.values() for page in pages]
    raise AssertionError(f"nginx placed no {STUDENTS_PER_SERVER} sessions on each server: {placed}")


def where_the_runs_stand(folder: Path, url: str) -> str:
    """A page never showed its run's end: each run's record as the store has it, and the logs' last lines."""
    from mnist_app.training import jobs

    runs = [
        f"run {j.id}: {j.status}, try {j.attempt}, {j.progress.get('phase')}, epoch {j.progress.get('epoch')}: "
        f"{j.message}"
        for j in (jobs.read(job, with_progress=True, reap=False) for job in jobs.list_jobs(url=url))
    ]
    logs = [f"--- {log.relative_to(folder)}\n{log_tail(log, 3000)}" for log in sorted(folder.rglob("*.log"))]
    return "\n".join(["a page never showed how its run ended", *runs, *logs])


def test_a_class_trains_at_once_on_a_scheduler_and_two_workers_and_every_run_ends_when_one_dies(
    tmp_path, shared_db, monkeypatch
):
    """docs/deploy.md with Train on: nginx, two app servers on one PostgreSQL, a `dask scheduler` and two `dask
    worker`s. Two students on each server press Train; a worker is killed while both train; every run ends on its
    page, trained (tried again on a worker) or failed with its reason."""
    from playwright.sync_api import expect

    from mnist_app.training import engine, jobs, settings

    require(Path(NGINX).exists(), f"{NGINX} is missing: apt-get install nginx")
    data = {"MNIST_DATA": str(SAMPLE)} | tiny_pen_env(tmp_path)
    with dask_cluster(tmp_path, data) as address:
        monkeypatch.setenv("MNIST_APP_CLUSTER", address)  # this test reads the runs as an app server does
        env = data | {"MNIST_APP_DB": shared_db, "MNIST_APP_CLUSTER": address} | numpy_model_only(tmp_path)
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
        port, access_log = free_port(), tmp_path / "access.log"
        with (
            streamlit_server(tmp_path / "a" / "server.log", env) as (url_a, _),
            streamlit_server(tmp_path / "b" / "server.log", env) as (url_b, _),
        ):
            servers = [url.removeprefix("http://") for url in (url_a, url_b)]
            with nginx_server(tmp_path, documented_conf(tmp_path, port, servers), port), chromium() as browser:
                pages = students(browser, f"http://127.0.0.1:{port}", access_log, servers)
                # EPOCHS epochs of 2,000 of the sample's digits: long enough to be killed mid-run, short enough that a
                # loaded machine trains all four in time, though the retried run may wait behind another worker's
                # run (Dask gives a dead worker's tasks to the live one; a restarted worker takes the next queued).
                # Every page is set first, then the four press Train one after another, as a class told to at once:
                # on a quiet machine a run pressed seconds after the last had ended would never train beside it
                for page in pages:
                    set_slider(page, "Epochs", EPOCHS, low=1, step=1)
                    set_slider(page, "MNIST digits", DIGITS, low=settings.MIN_DIGITS, step=1000)
                    settle(page)
                for page in pages:
                    page.get_by_role("button", name="Train", exact=True).click()
                started = re.compile(r"Queued: position \d|Epoch \d+/\d+|Starting|Run \d finished")
                for page in pages:
                    expect(page.get_by_text(started).first).to_be_visible(timeout=180_000)

                deadline = time.monotonic() + 240
                while sum(j.status == jobs.RUNNING for j in jobs.list_jobs(url=shared_db)) < 2:
                    assert time.monotonic() < deadline, "two runs never trained at once on the two workers"
                    time.sleep(0.2)
                victim = next(iter(engine.client().run(os.getpid).values()))
                os.kill(victim, signal.SIGKILL)  # its nanny starts the worker again; its run is tried again

                # each page shows how its run ended, without a reload. A worker trains niced below the app server
                # (job_process.NICE), so while the other tests of a parallel run keep both cores busy its runs crawl:
                # under a load of 24 two of them were still measuring after 400 s
                for page in pages:
                    ended = page.get_by_text(re.compile(r"^Run 1: .* (finished|failed)"))
                    try:
                        expect(ended).to_be_visible(timeout=900_000)
                    except AssertionError as failure:
                        raise AssertionError(where_the_runs_stand(tmp_path, shared_db)) from failure
                runs = jobs.list_jobs(url=shared_db)
            engine.stop()

    assert len(runs) == 2 * STUDENTS_PER_SERVER and len({run.owner for run in runs}) == len(runs)
    assert {(run.values["epochs"], run.data.digits) for run in runs} == {(EPOCHS, DIGITS)}  # as set on each page
    for run in runs:  # every run ended: trained, or failed with its reason
        assert run.status == jobs.FINISHED or (run.status == jobs.FAILED and run.message), run
    assert max(run.attempt for run in runs) >= 2, "the killed worker's run was not tried again"
    assert sum(run.status == jobs.FINISHED for run in runs) >= len(runs) - 1
