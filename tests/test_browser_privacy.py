"""A person's drawings and runs are theirs, in Chromium against a real server (issue 35.3).

Visitor 1 saves a drawing (public), keeps a teach drawing (private) and trains and keeps a run. A second browser,
given everything public (the downloads, visitor 1's page URLs, every text of visitor 1's pages but the resume code,
typed into the resume box), cannot resume, see as its own, delete or teach with any of it. Visitor 1, reloading,
still has it all; the resume code typed into a third browser resumes it."""

import re

import pytest

from mnist_app.data import pendigits
from mnist_app.store.drawings import DrawingStore

from scaffold import (
    SAMPLE,
    canvas_box,
    canvas_strokes,
    chromium,
    draw,
    numpy_model_only,
    require_pen_digits,
    settle,
    still_page,
    streamlit_server,
    tiny_pen_env,
)

pytestmark = pytest.mark.browser
WRITER = 28
RUN = "Run 1: NumPy MLP, written from scratch"
DESKTOP = {"width": 1280, "height": 1000}
FINISHED = re.compile(re.escape(RUN) + r"\W{0,2} finished")  # how the Train page says the run ended


@pytest.fixture(scope="module")
def hand():
    require_pen_digits()
    mine = [d for d in pendigits.load() if d.writer == WRITER]
    return {label: next(d for d in mine if d.label == label) for label in range(10)}


def open_page(browser, url: str):
    page = still_page(browser, DESKTOP)
    page.set_default_timeout(90_000)
    page.goto(url)
    page.get_by_text("Draw a digit (0-9)").first.wait_for()
    settle(page)
    return page


def teach_mode(page) -> None:
    page.locator(".st-key-mode").get_by_text("Teach", exact=True).click()
    page.get_by_role("heading", name=re.compile(r"^Draw a \d$|^Each digit drawn")).wait_for()
    settle(page)


def kept_in_teach_mode(page) -> int:
    """How many of the visitor's own drawings teach mode counts ("N of 30 kept")."""
    caption = page.get_by_text(re.compile(r"\d+ of \d+ kept")).first.inner_text()
    return int(re.search(r"(\d+) of \d+ kept", caption)[1])


def resume_code(page) -> str:
    page.get_by_text("Your resume code", exact=False).click()
    code = page.get_by_test_id("stCode").first.inner_text().strip()
    page.get_by_text("Your resume code", exact=False).click()  # closed again
    return code


def type_resume_code(page, code: str) -> None:
    box = page.get_by_label("Resume with a code")
    if not box.is_visible():
        page.get_by_text("Your resume code", exact=False).click()
    box.fill(code)
    page.keyboard.press("Enter")
    settle(page)


def train_and_keep(page, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/train")
    page.get_by_text("Set the knobs and press Train").wait_for()
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(FINISHED).first).to_be_visible(timeout=240_000)
    page.get_by_role("button", name="Keep").click()
    expect(page.get_by_text(re.compile(rf"#1 {RUN}, \d+\.\d\d% on MNIST"))).to_be_visible()


def test_a_second_browser_given_everything_public_cannot_take_a_visitors_drawings_or_runs(tmp_path, hand):
    from playwright.sync_api import expect

    expect.set_options(timeout=90_000)
    store_url = f"sqlite:///{tmp_path / 'drawings.sqlite'}"
    env = {"MNIST_DATA": str(SAMPLE), "MNIST_APP_JOBS": str(tmp_path / "jobs"), "MNIST_APP_DB": store_url}
    env |= tiny_pen_env(tmp_path) | numpy_model_only(tmp_path)  # the model drawn, taught and trained: NumPy
    with streamlit_server(tmp_path / "streamlit.log", env=env) as (url, _), chromium() as browser:
        first = open_page(browser, url)
        draw(first, canvas_box(first), canvas_strokes(hand[7]))
        settle(first)  # idle: the canvas sent its last stroke, and the page read it
        first.get_by_role("button", name=re.compile(r"^Save as \d$")).click()
        expect(first.get_by_role("button", name=re.compile(r"^Saved as \d$"))).to_be_visible()
        first.get_by_role("button", name="Clear").click()
        settle(first)
        teach_mode(first)
        asked = int(first.get_by_role("heading", name=re.compile(r"^Draw a \d$")).inner_text()[-1])
        draw(first, canvas_box(first), canvas_strokes(hand[asked]))
        settle(first)
        first.get_by_role("button", name=f"Keep as {asked}").click()
        expect(first.get_by_text(re.compile(r"^2 of \d+ kept"))).to_be_visible()
        code = resume_code(first)
        assert len(code) >= 22
        public_text = [first.inner_text("body")]
        first_urls = [first.url]
        train_and_keep(first, url)
        public_text.append(first.inner_text("body"))
        first_urls.append(first.url)
        first.goto(f"{url}/drawings")
        first.get_by_role("button", name="Download .csv").wait_for()
        settle(first)
        public_text.append(first.inner_text("body"))
        first_urls.append(first.url)
        assert len(first.locator("[data-testid='stPopover']").all()) == 2  # its own two, each with its Delete
        with first.expect_download() as downloaded:
            first.get_by_role("button", name="Download .csv").click()
        csv = open(downloaded.value.path()).read()
        assert code not in csv and code not in first_urls[0] + first_urls[1] + first_urls[2]
        assert csv.count("\n") == 2  # the header and the one shared drawing: the teach drawing is private

        # a second browser, given all that is public
        second = open_page(browser, first_urls[0])
        words = {w for text in public_text for w in re.findall(r"[A-Za-z0-9_-]{16,}", text.replace(code, ""))}
        words |= {row.split(",")[3] for row in csv.splitlines()[1:]}  # the writer pseudonyms of the download
        teach_mode(second)
        for word in sorted(words):
            type_resume_code(second, word)
        assert kept_in_teach_mode(second) == 0
        expect(second.get_by_role("button", name=re.compile(r"^Teach .* \(0 drawings\)$"))).to_be_disabled()
        for address in first_urls:
            second.goto(address)
            second.get_by_text(re.compile("Draw a digit|Set the knobs|Download .csv")).first.wait_for()
            settle(second)
            assert RUN not in second.inner_text("body").replace(f"#1 {RUN}", "")  # the kept run, offered to all
        assert second.locator("[data-testid='stPopover']").count() == 0  # the shared drawing: no Delete
        second.goto(f"{url}/train")
        second.get_by_text("Set the knobs and press Train").wait_for()
        settle(second)
        assert second.get_by_role("button", name="Delete").count() == 0  # visitor 1's kept run is not its own
        assert DrawingStore(store_url).revision()[0] == 2  # nothing of visitor 1's was deleted

        # visitor 1 reloads: everything is still theirs
        first.goto(first_urls[0])
        first.reload()
        first.get_by_text("Draw a digit (0-9)").first.wait_for()
        teach_mode(first)
        assert kept_in_teach_mode(first) == 2 and resume_code(first) == code
        first.goto(f"{url}/train")
        expect(first.get_by_text(FINISHED).first).to_be_visible()
        expect(first.get_by_role("button", name="Delete")).to_have_count(1)

        # the resume code, typed into another browser, resumes
        third = open_page(browser, url)
        teach_mode(third)
        assert kept_in_teach_mode(third) == 0
        type_resume_code(third, code)
        expect(third.get_by_text(re.compile(r"^2 of \d+ kept"))).to_be_visible()
        expect(third.get_by_role("button", name=re.compile(r"^Teach .* \(2 drawings\)$"))).to_be_visible()
        third.goto(f"{url}/train")
        expect(third.get_by_text(FINISHED).first).to_be_visible()
