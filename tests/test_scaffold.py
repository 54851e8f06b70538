"""The browser tests' helpers: the server-log check (Streamlit's closed-tab traceback is left out, every other error
shows), the mouse path that draws a pen digit, the same in the sync and async pages, and Chromium's arguments."""

import asyncio
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from scaffold import CHROMIUM, CHROMIUM_ARGS, draw, draw_async, pointer_path, require, server_log_problems

# as uvicorn logged it in a CI run of the load test (paths shortened)
CLOSED_TAB = """2026-11-29 10:00:01.000 Exception in ASGI application
Traceback (most recent call last):
  File "streamlit/web/server/starlette/starlette_websocket.py", line 516, in websocket_endpoint
    data = await websocket.receive_bytes()
starlette.websockets.WebSocketDisconnected: WebSocket is not connected. Need to call "accept" first.

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "streamlit/web/server/starlette/starlette_websocket.py", line 524, in websocket_endpoint
    await websocket.close()
starlette.websockets.WebSocketDisconnected: Cannot call "send" once a close message has been sent.
"""
LOADED = "2026-11-29 10:00:00.000 mnist-app loaded model numpy-mlp from models\n"


def test_a_clean_log_has_no_problems():
    assert server_log_problems(LOADED) == []


def test_streamlits_closed_tab_traceback_is_left_out():
    assert server_log_problems(LOADED + CLOSED_TAB + LOADED) == []


def test_any_other_traceback_still_shows():
    other = 'Traceback (most recent call last):\n  File "app.py", line 3\nValueError: boom\n'
    assert server_log_problems(LOADED + other) == ["Traceback (most recent call last):", "ValueError: boom"]


def test_an_error_beside_the_closed_tab_traceback_still_shows():
    problems = server_log_problems(CLOSED_TAB + "2026-11-29 10:00:02.000 StoreError: cannot save\n")
    assert problems == ["2026-11-29 10:00:02.000 StoreError: cannot save"]


class Mouse:
    """Records what a test does with the mouse, as Playwright's page.mouse would receive it."""

    def __init__(self, events: list):
        self.events = events

    def move(self, x, y):
        self.events.append(("move", x, y))

    def down(self):
        self.events.append(("down",))

    def up(self):
        self.events.append(("up",))


class AsyncMouse(Mouse):
    async def move(self, x, y):
        super().move(x, y)

    async def down(self):
        super().down()

    async def up(self):
        super().up()


class Canvas:
    async def bounding_box(self):
        return BOX


BOX = {"x": 100.0, "y": 50.0, "width": 280.0, "height": 280.0}
STROKES = [np.array([[10.0, 20.0], [40.0, 80.0], [70.0, 80.0]]), np.array([[5.0, 5.0], [5.0, 35.0]])]


def test_a_stroke_is_pressed_at_its_first_point_and_moves_through_every_recorded_point():
    path = pointer_path(BOX, STROKES[0])
    assert path == [(110.0, 70.0), (140.0, 130.0), (170.0, 130.0)]


def test_draw_and_draw_async_replay_the_same_mouse_moves():
    sync_events, async_events = [], []
    draw(SimpleNamespace(mouse=Mouse(sync_events)), BOX, STROKES)
    page = SimpleNamespace(mouse=AsyncMouse(async_events), locator=lambda _: SimpleNamespace(last=Canvas()))
    asyncio.run(draw_async(page, STROKES))
    assert sync_events == async_events
    assert [e[0] for e in sync_events].count("down") == len(STROKES) == [e[0] for e in sync_events].count("up")


def disabled_features(args: list[str]) -> set[str]:
    """The features that Chromium, launched by Playwright with `args`, says it runs with off."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        page = browser.new_page()
        page.goto("chrome://version/?show-variations-cmd")  # the features as Chromium runs them, not as passed
        variations = re.search(r"^Command-line Variations\t(.*)$", page.inner_text("body"), re.MULTILINE).group(1)
        browser.close()
    return set(re.search(r'--disable-features="([^"]*)"', variations).group(1).split(","))


@pytest.mark.browser
def test_chromium_runs_without_the_omnibox_popup_and_with_every_feature_playwright_turns_off():
    """Chromium keeps only the last --disable-features: the tests' own must not drop Playwright's."""
    require(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium")
    playwrights = disabled_features([a for a in CHROMIUM_ARGS if not a.startswith("--disable-features=")])
    ours = disabled_features(CHROMIUM_ARGS)
    assert {"HttpsUpgrades", "PaintHolding"} <= playwrights
    assert playwrights | {"WebUIOmniboxPopup", "WebUIOmniboxAimPopup"} <= ours
