"""Photo mode in Chromium: a made photo of digits on paper (tests/data) uploaded as a file is read as its number,
with the photo boxed and each digit as the model saw it; a file that is no image says so and the page goes on. The
same kind of photo shown to Chromium's fake camera and taken with the camera input is read as its number too."""

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from scaffold import CHROMIUM, CHROMIUM_ARGS, choose_mode, chromium, numpy_model_only, still_page, streamlit_server

pytestmark = pytest.mark.browser
DATA = Path(__file__).parent / "data"
CAMERA_PHOTO = "photo-9698.jpg"
# A laptop webcam's frame (and Chromium's fake camera's default size): the 1280x960 photo halved, 4:3 as it is, so
# nothing is cropped or stretched; its digits stay about 70 px tall and read. The camera input takes the frame at
# this size, upright and not mirrored (the test checks the shot's size; a turned or mirrored 9698 would not read).
CAMERA_SIZE = (640, 480)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photo")
    env = numpy_model_only(folder)  # its visitors read with the NumPy network
    with streamlit_server(folder / "streamlit.log", env) as (url, _), chromium() as browser:
        yield url, browser, folder


def test_an_uploaded_photo_of_paper_is_read_as_its_number(server):
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    url, browser, folder = server
    name, label = next((n, v) for n, v in json.loads((DATA / "photos.json").read_text()).items() if v["number"])
    page = still_page(browser, {"width": 1280, "height": 1000})
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


def y4m(photo: Path, path: Path, size: tuple[int, int] = CAMERA_SIZE) -> Path:
    """The photo as a one-frame YUV4MPEG2 4:2:0 video at `size`, which Chromium's fake camera plays in a loop."""
    (w, h), half = size, (size[0] // 2, size[1] // 2)
    y, cb, cr = Image.open(photo).convert("RGB").resize(size, Image.LANCZOS).convert("YCbCr").split()
    frame = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    path.write_bytes(f"YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1 C420jpeg\n".encode() + b"FRAME\n" + frame)
    return path


@pytest.fixture
def camera_browser(server, tmp_path):
    """A Chromium of its own whose camera sees the photo (the upload test's browser keeps no camera)."""
    feed = y4m(DATA / CAMERA_PHOTO, tmp_path / "camera.y4m")
    fake_camera = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",  # says yes to the page's camera request
        f"--use-file-for-fake-video-capture={feed}",
    ]
    _, browser, _ = server
    camera = browser.browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *fake_camera], headless=True)
    try:
        yield camera
    finally:
        camera.close()


def test_a_photo_taken_with_the_camera_is_read_as_its_number(server, camera_browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    url, _, _ = server
    label = json.loads((DATA / "photos.json").read_text())[CAMERA_PHOTO]["number"]
    page = still_page(camera_browser, {"width": 1280, "height": 1000})
    context = page.context
    context.grant_permissions(["camera"], origin=url)
    page.set_default_timeout(90_000)
    page.goto(f"{url}?model=numpy-mlp")
    page.get_by_text("Draw a digit (0-9)").first.wait_for()
    choose_mode(page, "Photo")
    page.get_by_role("heading", name="Photograph a number").wait_for()

    page.get_by_text("Or take one with the camera").click()
    take = page.get_by_role("button", name="Take Photo")
    expect(take).to_be_enabled()  # enabled once the camera's stream is granted
    # a shot is the video's current frame (react-webcam takes none while the video has no height): pressed before
    # the fake camera's first frame has come (twice in the suite, on 2 loaded cores), it takes nothing, and the
    # page waits for a photo that never comes
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-testid=stCameraInput] video');"
        " return v !== null && v.videoHeight > 0; }"
    )
    take.click()
    expect(page.get_by_role("heading", name=f"Number: {label}")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Numbered as read"))).to_be_visible()
    expect(page.get_by_test_id("stFileUploaderFile")).to_have_count(0)  # read from the camera: nothing uploaded
    shot = page.get_by_test_id("stCameraInput").locator("img")
    width, height = shot.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")  # scaled to the page's column
    assert abs(width / height - CAMERA_SIZE[0] / CAMERA_SIZE[1]) < 0.01  # the whole frame, not a crop of it
