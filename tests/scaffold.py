"""Helpers for the tests and benchmarks: a real `streamlit run app.py`, Debian's Chromium, pen digits as mouse drags.

Playwright and pytest are test requirements: they are imported inside the functions that need them.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from mnist_app import models
from mnist_app.data import pendigits
from mnist_app.preprocess import canvas_to_mnist

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "mnist_sample.npz"  # the first 5,000 training and 1,000 test digits of MNIST

CHROMIUM = "/usr/bin/chromium"
# what Playwright 1.65 (requirements-test.txt) passes as --disable-features (its chromiumSwitches)
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
# as root, in a closed network: no sandbox, and none of Chromium's background connections
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Chromium 156 loads the omnibox popup's WebUI pages in a hidden renderer for every browser context, which is
    # every page a test opens: a page opened cost 4.10 s of the machine's CPU with it, 2.86 s without
    # (benchmarks/draw_page.py --measure page-load), for a popup that no test shows. Chromium keeps only the last
    # --disable-features it is given, so this one repeats Playwright's own.
    "--disable-features=" + ",".join((*PLAYWRIGHT_DISABLED_FEATURES, "WebUIOmniboxPopup", "WebUIOmniboxAimPopup")),
]
# Every test page runs without CSS animations (injected into each page by `still_page`): a page waiting for its rerun
# turns Streamlit's spinner for as long as it waits, 0.108 s of CPU a second against 0.056 without (`benchmarks/
# draw_page.py --measure waiting`), and sixteen pages waiting on 2 cores took the CPU their server needed (the load
# test alone: 124-125 s of CPU, against 137-165 s with animations, two runs each taking turns). Transitions stay: they
# run once, on a change (a toast's entrance), not while waiting.
STILL = """document.addEventListener("DOMContentLoaded", () => {
    const style = document.createElement("style");
    style.textContent = "*, *::before, *::after { animation: none !important; }";
    document.head.appendChild(style);
});"""
CANVAS = 280


def require(condition: bool, reason: str) -> None:
    """Skip when a prerequisite is missing here; in CI (CI=true) a missing prerequisite is a failure."""
    import pytest

    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run this test: {reason}")
        pytest.skip(reason)


def require_pen_digits() -> None:
    """UCI's pen-digit file, where PENDIGITS points (../shared/pendigits by default), or a skip (a failure in CI)."""
    require(pendigits.default_path().exists(), f"{pendigits.default_path()} is missing (../shared/pendigits)")


BOX = 200  # the drawn digit's height (or width) on the canvas, in pixels


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def beside(folder: Path) -> dict[str, str]:
    """A server's store, runs and caches in `folder`: a test never writes to the user's own."""
    return {
        "MNIST_APP_DB": f"sqlite:///{folder / 'drawings.sqlite'}",
        "MNIST_APP_CACHE": str(folder / "cache"),
    }


@contextmanager
def streamlit_server(log_path: Path, env: dict | None = None, script: Path = ROOT / "app.py"):
    """`streamlit run app.py` (or another `script`) on a free loopback port; yields (url, process). Drawings, runs
    and caches are kept beside the log unless `env` says otherwise (beside)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, **beside(log_path.parent), **(env or {}), "PYTHONFAULTHANDLER": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"streamlit did not start: {log_path.read_text()}") from None
                time.sleep(0.3)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:  # hung: SIGABRT makes faulthandler write every thread's stack to the log
            process.send_signal(signal.SIGABRT)
            process.wait(timeout=20)
            raise RuntimeError(f"streamlit did not stop in 20 s; its log ends:\n{log_tail(log_path)}") from None


def log_tail(path: Path, chars: int = 6000) -> str:
    """The last `chars` characters of a log file (what a failure message can carry)."""
    return path.read_text(errors="replace")[-chars:] if path.is_file() else f"({path} is missing)"


def still_page(browser, viewport: dict | None = None):
    """A new page in a browser context of its own (its own cookies, so its own visitor), without animations (STILL);
    its context is `page.context`."""
    context = browser.new_context(viewport=viewport)
    context.add_init_script(STILL)
    return context.new_page()


async def still_page_async(browser, viewport: dict | None = None):
    """`still_page`, for the load and deployment tests' async pages."""
    context = await browser.new_context(viewport=viewport)
    await context.add_init_script(STILL)
    return await context.new_page()


@contextmanager
def chromium():
    """Debian's Chromium under Playwright (never a downloaded browser)."""
    require(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


# Streamlit 1.67's websocket endpoint (streamlit/web/server/starlette/starlette_websocket.py) reads frames with
# starlette's receive_bytes and takes any RuntimeError for a text frame. When a browser goes away while the server
# is still sending to it, starlette marks the socket closed from the failed send, and the next receive_bytes raises
# WebSocketDisconnected, a RuntimeError: Streamlit then closes the closed socket again, which raises, and uvicorn
# logs "Exception in ASGI application" with this ending. Nothing is lost (the session is already gone); it is
# upstream's, so the server-log checks leave out exactly this traceback and nothing else.
CLOSED_TAB_TRACEBACK = re.compile(
    r"^[^\n]*Exception in ASGI application\n(?:.*\n)*?.*WebSocketDisconnected: Cannot call \"send\" once a close "
    r"message has been sent\.\n",
    re.MULTILINE,
)


def server_log_problems(log: str) -> list[str]:
    """The lines of a server log that name an error or a traceback, once Streamlit's closed-tab traceback (above)
    is left out: every other error still shows."""
    rest = CLOSED_TAB_TRACEBACK.sub("", log)
    return [line for line in rest.splitlines() if "Traceback" in line or "Error" in line]


def canvas_strokes(digit: pendigits.PenDigit) -> list[np.ndarray]:
    """The digit's strokes as the browser tests draw them: BOX pixels tall (or wide), centred."""
    return pendigits.canvas_strokes(digit, size=BOX / CANVAS, canvas=CANVAS)


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


def pointer_path(box: dict, stroke: np.ndarray) -> list[tuple[float, float]]:
    """Where the mouse goes on the page for one stroke, pressed at the first point and moved through every recorded
    point of the pen (as often as the pen was sampled: 28-81 moves a stroke), offset by the canvas's corner. `draw`
    and `draw_async` replay it, so the browser tests and the load test draw alike. Each move costs Chromium about
    10 ms of a core (the canvas redraws its whole stroke); moving in thirds of each segment cost 2.3x more a digit."""
    x0, y0 = box["x"], box["y"]
    return [(float(x0 + x), float(y0 + y)) for x, y in stroke]


def draw(page, canvas_box: dict, strokes: list[np.ndarray]) -> None:
    """Replay strokes as mouse drags: press, move along each stroke's pointer_path, release."""
    for stroke in strokes:
        (x, y), *rest = pointer_path(canvas_box, stroke)
        page.mouse.move(x, y)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(x, y)
        page.mouse.up()


def readable_digits(names: tuple[str, ...], per_label: int = 1, brush: int = 20) -> dict[int, list]:
    """Held-out pen digits that every named model reads right, and is sure of, offline, rendered as the browser test
    draws them (an unsure reading's headline names two digits).

    Each must also be read right a little thinner and thicker: a mouse drawing under load is never quite the render.
    """
    require_pen_digits()
    loaded = [models.load(n) for n in names]
    chosen: dict[int, list] = {label: [] for label in range(10)}
    for digit in pendigits.select_writers(pendigits.load(), "heldout"):
        if len(chosen[digit.label]) >= per_label:
            continue
        images = np.stack(
            [
                canvas_to_mnist(pendigits.render(digit, brush=b, size=BOX / CANVAS))
                for b in (brush - 5, brush, brush + 5)
            ]
        )
        if all((m.predict_proba(images)[:, digit.label] > max(0.9, m.unsure_below)).all() for m in loaded):
            chosen[digit.label].append(digit)
        if all(len(v) >= per_label for v in chosen.values()):
            break
    return chosen


def canvas_box(page) -> dict:
    """Where the drawing surface (Fabric's upper canvas) is on the page."""
    canvas = page.locator("canvas").last
    canvas.wait_for(state="visible")
    return canvas.bounding_box()


def clear(page) -> None:
    """Press Clear and wait for the empty-canvas prompt."""
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit (0-9)").wait_for()


SETTLED = """(quietMs) => {
    const running = document.querySelector("[data-testid='stStatusWidget']");
    const text = document.querySelector("[data-testid='stMain']")?.innerText ?? "";
    const now = Date.now();
    if (running || text !== window.__settleText) {
        window.__settleText = text;
        window.__settleSince = now;
        return false;
    }
    return now - window.__settleSince >= quietMs;
}"""


def settle(page, quiet_ms: int = 1000) -> None:
    """Wait until Streamlit is idle and the page's text has not changed for `quiet_ms`.

    The app reads after every stroke: a reading taken before the last stroke's rerun has finished is a
    reading of half a digit.
    """
    page.evaluate("window.__settleText = undefined")
    page.wait_for_function(SETTLED, arg=quiet_ms, polling=100)


def timed(page, action) -> float:
    """Seconds from an action until Streamlit is idle again and the page has stopped changing (less the quiet wait)."""
    quiet_ms = 300
    begin = time.perf_counter()
    action()
    settle(page, quiet_ms)
    return time.perf_counter() - begin - quiet_ms / 1000


PICTURES_SHOWN = """(count) => {
    const pictures = [...document.querySelectorAll("[data-testid='stImage'] img")];
    return pictures.length >= count && pictures.every((picture) => picture.complete && picture.naturalWidth > 0);
}"""


def explain_seconds(page, pictures: int = 3) -> float:
    """Seconds from a click on "Explain this reading" until its pictures are on the page and loaded; the
    explanation is closed again before returning. The Draw page must show a reading with the explanation closed."""
    images = page.locator("[data-testid='stImage'] img")
    before = images.count()
    toggle = page.get_by_text("Explain this reading")
    begin = time.perf_counter()
    toggle.click()
    page.wait_for_function(PICTURES_SHOWN, arg=before + pictures, polling=20)
    seconds = time.perf_counter() - begin
    settle(page, 300)
    toggle.click()
    page.wait_for_function(f"() => document.querySelectorAll(\"[data-testid='stImage'] img\").length == {before}")
    settle(page, 300)
    return seconds


async def settle_async(page, quiet_ms: int = 1000) -> None:
    """`settle`, for the load test's async pages."""
    await page.evaluate("window.__settleText = undefined")
    await page.wait_for_function(SETTLED, arg=quiet_ms, polling=100)


async def draw_async(page, strokes) -> None:
    """`draw`, for the load test's async pages, on the page's canvas."""
    box = await page.locator("canvas").last.bounding_box()
    for stroke in strokes:
        (x, y), *rest = pointer_path(box, stroke)
        await page.mouse.move(x, y)
        await page.mouse.down()
        for x, y in rest:
            await page.mouse.move(x, y)
        await page.mouse.up()


async def choose_model_async(page, label: str) -> None:
    """`choose_model`, for the load test's async pages."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Model", exact=True))
    option = page.get_by_role("option", name=label, exact=True)
    for _ in range(5):  # a rerun that ends meanwhile redraws the select box closed
        await box.click()
        try:
            await option.wait_for(state="visible", timeout=10_000)
            break
        except PlaywrightTimeout:
            await page.keyboard.press("Escape")
    await option.click()


async def one_user(browser, url: str, name: str, digit, save: bool = False) -> tuple[str, str, bool]:
    """A fresh browser context (its own Streamlit session): choose a model, draw, read the answer (and save it);
    (the answer, its caption, whether the drawing had to be drawn again). Under the load test's 16 sessions on 2 busy
    cores a stroke was once never sent (the page idle, "Nothing drawn yet"): the person draws it again, and the test
    counts such redraws instead of timing out."""
    from playwright.async_api import expect

    page = await still_page_async(browser, {"width": 1280, "height": 1000})
    context = page.context
    page.set_default_timeout(180_000)  # 16 sessions starting at once on 2 busy cores: each waits its turn
    await page.goto(url)
    await page.get_by_text("Draw a digit (0-9)").wait_for(timeout=120_000)
    await choose_model_async(page, models.label_of(name))
    await expect(page.get_by_text(f"· {models.label_of(name)}")).to_have_count(0, timeout=60_000)
    await settle_async(page)  # the model loaded: its spinner, beside its name, gone
    await draw_async(page, canvas_strokes(digit))
    await settle_async(page, quiet_ms=5000)  # idle, and nothing changed for 5 s: the stroke's rerun is over
    redrawn = await page.get_by_role("heading", name="Nothing drawn yet").is_visible()
    if redrawn:
        await draw_async(page, canvas_strokes(digit))
    await expect(page.get_by_text(f"Prediction: {digit.label}", exact=True)).to_be_visible(timeout=120_000)
    await expect(page.get_by_text(f"· {models.label_of(name)}")).to_be_visible(timeout=60_000)
    answer = await page.get_by_role("heading", name=re.compile("Prediction")).inner_text()
    caption = await page.get_by_text(re.compile("probability .* · ")).inner_text()
    if save:  # once the app is idle, so that the button most likely belongs to the whole drawing
        await expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=180_000)
        await page.get_by_role("button", name=f"Save as {digit.label}").click()
        # the page confirms this click's save: its toast, which shows for 4 s (on 2 loaded cores it can come and go
        # between two looks), or what stays, the button "Saved as" or, where a stroke the canvas sent late changed
        # the drawing since, the caption naming the saved drawing. The store's count, checked after, says no more.
        toast = page.get_by_text(re.compile(rf"Saved as {digit.label} \(drawing #\d+\)"))
        button = page.get_by_role("button", name=f"Saved as {digit.label}", exact=True)
        since = page.get_by_text(re.compile(rf"Drawing #\d+ was saved as {digit.label};"))
        await expect(toast.or_(button).or_(since).first).to_be_visible(timeout=180_000)
    # leave as a person would, once the page is idle: closing while the server still sends the last rerun is what
    # makes Streamlit log its closed-tab traceback (CLOSED_TAB_TRACEBACK)
    await expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=180_000)
    await context.close()
    return answer, caption, redrawn


async def many_users(url: str, jobs: list, save: bool = False) -> list:
    """Every (model name, pen digit) job as its own browser session, all at once; their (answer, caption)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            return await asyncio.gather(*(one_user(browser, url, name, digit, save) for name, digit in jobs))
        finally:
            await browser.close()


def load_jobs(digits: dict[int, list], sessions: int) -> list[tuple]:
    """(model name, pen digit) for each of many sessions: the models in turn, the digits spread over 0-9
    (readable_digits with per_label=2 covers 20 sessions)."""
    n = len(models.SHIPPED)
    return [(models.SHIPPED[i % n], digits[(2 * i + 1 + i // 5) % 10][i // 10]) for i in range(sessions)]


PEN_DIGIT = """.SEGMENT DIGIT    {n} ? "{label}"
.COMMENT {label} {writer}  {n}
.PEN_DOWN
 100  400
 400  400
 200  100
.PEN_UP
"""


def tiny_pen_file(folder: Path, writers=range(1, 31)) -> Path:
    """A UNIPEN file of two pen digits (a 7-like stroke) per writer: pen-digit runs in seconds."""
    text = "".join(PEN_DIGIT.format(n=2 * w + k, label=(w + k) % 10, writer=w) for w in writers for k in (0, 1))
    path = Path(folder) / "pen.tra"
    path.write_text(text)
    return path


def wait_for_run(job, statuses, seconds: float = 600, condition=lambda job: True):
    """The run (a jobs.Job or its id) reread until its status is one of `statuses` and `condition` holds; an
    AssertionError saying where it stands after `seconds`. It ends as soon as the run does: the long bound is for
    niced runs, which crawl while the suite's browser tests load both cores."""
    from mnist_app.training import jobs

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = jobs.read(job)
        if job.status in statuses and condition(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"{job.label} still {job.status}: {job.message}")


def numpy_model_only(folder: Path) -> dict[str, str]:
    """Environment that gives the app a models folder holding the NumPy network alone (README's MNIST_APP_MODELS),
    for servers whose visitors read with it alone: their warm-up then imports no TensorFlow and loads no Keras model
    (about 20 s of a core per server, which the deployment tests' browsers and training runs would wait behind)."""
    shutil.copytree(models.MODELS_DIR / "numpy-mlp", Path(folder) / "models" / "numpy-mlp")
    return {"MNIST_APP_MODELS": str(Path(folder) / "models")}


def tiny_pen_env(folder: Path) -> dict[str, str]:
    """Environment that points train.py at a tiny pen-digit file and a private drawing cache."""
    return {"PENDIGITS": str(tiny_pen_file(folder)), "MNIST_APP_CACHE": str(Path(folder) / "cache")}


@contextmanager
def dask_cluster(folder: Path, env: dict[str, str], workers: int = 2):
    """A `dask scheduler` and `workers` `dask worker`s of one thread each (nannied: one killed is started again), on
    loopback, started as docs/deploy.md starts them, with `env` beside one thread per numeric library; yields the
    scheduler's address. Their output goes to folder/dask-*.log."""
    from mnist_app.training.engine import ONE_THREAD, WORKER_ENV

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    env = os.environ | dict(ONE_THREAD) | WORKER_ENV | env
    commands = [[dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"]]
    commands += [
        [dask, "worker", address, "--nthreads", "1", "--resources", "train=1", "--name", f"w{k}", "--no-dashboard"]
        + ["--nanny"]
        for k in range(workers)
    ]
    started = []
    try:
        for k, command in enumerate(commands):
            with open(folder / f"dask-{k}.log", "w") as log:
                started.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
            if k == 0:
                time.sleep(2)  # the scheduler listens before the workers look for it
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=30)


NGINX = "/usr/sbin/nginx"  # Debian's nginx, for the deployment test (docs/deploy.md)


@contextmanager
def nginx_server(folder: Path, conf: str, port: int):
    """Debian's nginx in the foreground with `conf` (whose pid, logs and temp files must lie in `folder`), listening
    on loopback `port`; yields the process. Its error log is folder/error.log."""
    require(Path(NGINX).exists(), f"{NGINX} is missing: apt-get install nginx")
    (folder / "nginx.conf").write_text(conf)
    command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]
    with open(folder / "nginx.out", "w") as out:
        process = subprocess.Popen([*command, "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    log = (folder / "nginx.out").read_text() + (folder / "error.log").read_text()
                    raise RuntimeError(f"nginx did not start: {log}") from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


async def clear_async(page) -> None:
    """`clear`, for async pages."""
    await page.get_by_role("button", name="Clear").click()
    await page.get_by_text("Draw a digit (0-9)").wait_for()
    await settle_async(page)


# Toasts fade after seconds, and a page starved of CPU may be looked at only after that: a MutationObserver writes down
# every toast's text as it is shown, for the test to read whenever it looks.
RECORD_TOASTS = """() => {
    if (window.__toasts === undefined) {
        window.__toasts = [];
        new MutationObserver(() => {
            for (const toast of document.querySelectorAll("[data-testid='stToastText']")) {
                if (!window.__toasts.includes(toast.innerText)) window.__toasts.push(toast.innerText);
            }
        }).observe(document.body, {childList: true, subtree: true, characterData: true});
    }
}"""


async def draw_and_save_async(page, digit) -> int:
    """Draw a pen digit on an empty canvas, wait for the right reading and save it under that label: the new
    drawing's id, as its toast said it (recorded as it showed). Each save on a page must be of another label."""
    from playwright.async_api import expect

    await page.evaluate(RECORD_TOASTS)
    await draw_async(page, canvas_strokes(digit))
    # The canvas sends the drawing 200 ms after its last stroke. A stroke that reaches the server while the Save
    # button's callback runs interrupts it after the drawing is stored, before its toast. A page timer set now fires
    # after the canvas's, so the drawing is sent before the click.
    await page.evaluate("() => new Promise((done) => setTimeout(done, 500))")
    await expect(page.get_by_text(f"Prediction: {digit.label}", exact=True)).to_be_visible(timeout=120_000)
    await settle_async(page)
    await page.get_by_role("button", name=f"Save as {digit.label}").click()
    said = f"() => window.__toasts.find((text) => /Saved as {digit.label} \\(drawing #\\d+\\)/.test(text))"
    toast = await page.wait_for_function(said, timeout=180_000)
    return int(re.search(r"#(\d+)", await toast.json_value()).group(1))


@contextmanager
def postgres_schema(server: str, prefix: str) -> Iterator[str]:
    """A fresh schema of its own on the PostgreSQL server, as a URL whose tables live there; dropped afterwards."""
    import sqlalchemy as sa

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:  # libpq's options put the store's tables in that schema
        yield sa.make_url(server).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def choose_mode(page, mode: str) -> None:
    """Picks a mode of the Draw page ("Digit", "Teach", ...): its choices are radio buttons in one row."""
    page.get_by_role("radio", name=mode, exact=True).click()


def choose_model(page, label: str) -> None:
    """Picks a model by what the Draw page calls it, in its Model select box."""
    opened_option(page, "Model", label).click()


def opened_option(page, box_label: str, option: str):
    """Opens the select box labelled `box_label` and returns its `option`, shown and ready to click."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(box_label, exact=True))
    shown = page.get_by_role("option", name=option, exact=True)
    for attempt in range(5):  # a rerun that ends meanwhile redraws the select box closed
        box.click()
        try:  # longer each time: on 2 loaded cores a busy page once did not open it in five tries of 5 s
            shown.wait_for(state="visible", timeout=5_000 * (attempt + 1))
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    return shown
