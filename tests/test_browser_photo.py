"""Photo mode in Chromium: a made photo of digits on paper (tests/data) uploaded as a file is read as its number,
with the photo boxed and each digit as the model saw it; a file that is no image says so and the page goes on."""

import json
import re
from pathlib import Path

import pytest

from scaffold import choose_mode, chromium, streamlit_server

pytestmark = pytest.mark.browser
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photo")
    with streamlit_server(folder / "streamlit.log") as (url, _), chromium() as browser:
        yield url, browser, folder


def test_an_uploaded_photo_of_paper_is_read_as_its_number(server):
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    url, browser, folder = server
    name, label = next((n, v) for n, v in json.loads((DATA / "photos.json").read_text()).items() if v["number"])
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{url}?model=numpy-mlp")
    page.get_by_text("Draw a digit (0-9)").first.wait_for()
    choose_mode(page, "Photo")
    page.get_by_role("heading", name="Photograph a number").wait_for()

    not_an_image = folder / "notes.png"
    not_an_image.write_bytes(b"these are notes, not a picture")
    page.locator("input[type=file]").set_input_files(str(not_an_image))
    expect(page.get_by_role("heading", name=re.compile("This file is not an image"))).to_be_visible()

    page.locator("input[type=file]").set_input_files(str(DATA / name))
    expect(page.get_by_role("heading", name=f"Number: {label['number']}")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Numbered as read"))).to_be_visible()  # the photo with its boxes
