"""Many users at once: 8 browser sessions draw different digits with different models on one server."""

import asyncio
import re

import pytest

from mnist_app import models
from mnist_app.testing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    canvas_strokes,
    readable_digits,
    require,
    rss_mib,
    streamlit_server,
)

pytestmark = [pytest.mark.load, pytest.mark.browser]
SESSIONS = 8


async def draw_async(page, strokes) -> None:
    box = await page.locator("canvas").last.bounding_box()
    for stroke in strokes:
        await page.mouse.move(box["x"] + stroke[0, 0], box["y"] + stroke[0, 1])
        await page.mouse.down()
        for x, y in stroke[1:]:
            await page.mouse.move(box["x"] + x, box["y"] + y, steps=3)
        await page.mouse.up()


async def one_user(browser, url: str, name: str, digit) -> tuple[str, str]:
    """A fresh browser context (its own Streamlit session): choose a model, draw, read the answer."""
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    await page.goto(url)
    await page.get_by_text("Draw a digit (0-9)").wait_for(timeout=120_000)
    await page.get_by_text(models.label_of(name), exact=True).click()
    await expect(page.get_by_text(f"· {models.label_of(name)}")).to_have_count(0, timeout=60_000)
    await draw_async(page, canvas_strokes(digit))
    await expect(page.get_by_text(f"Prediction: {digit.label}", exact=True)).to_be_visible(timeout=120_000)
    await expect(page.get_by_text(f"· {models.label_of(name)}")).to_be_visible(timeout=60_000)
    answer = await page.get_by_role("heading", name=re.compile("Prediction")).inner_text()
    caption = await page.get_by_text(re.compile("probability .* · ")).inner_text()
    await context.close()
    return answer, caption


async def many_users(url: str, jobs: list) -> list:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            return await asyncio.gather(*(one_user(browser, url, name, digit) for name, digit in jobs))
        finally:
            await browser.close()


def test_eight_sessions_at_once_each_get_their_own_right_answer(tmp_path):
    from pathlib import Path

    require(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium")
    digits = readable_digits(models.SHIPPED)
    n = len(models.SHIPPED)
    jobs = [(models.SHIPPED[i % n], digits[(2 * i + 1) % 10][0]) for i in range(SESSIONS)]
    log = tmp_path / "server.log"
    with streamlit_server(log) as (url, server):
        warm = asyncio.run(many_users(url, jobs[:n]))  # every model loaded once first: the memory baseline
        baseline = rss_mib(server.pid)
        results = asyncio.run(many_users(url, jobs))
        after = rss_mib(server.pid)
    text = log.read_text()

    assert [answer for answer, _ in warm] == [f"Prediction: {digit.label}" for _, digit in jobs[:n]]
    for (name, digit), (answer, caption) in zip(jobs, results, strict=True):
        assert answer == f"Prediction: {digit.label}"  # its own digit, not another session's
        assert caption.endswith(models.label_of(name))  # its own model choice
    for name in models.SHIPPED:  # each model loaded once for the whole server, not once per session
        assert text.count(f"mnist-app loaded model {name} ") == 1
    assert "Traceback" not in text and "Error" not in text
    assert after - baseline < 256, f"8 sessions grew server memory from {baseline:.0f} to {after:.0f} MiB"
