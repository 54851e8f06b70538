import numpy as np
import pytest

from mnist_app import pendigits
from mnist_app.preprocess import canvas_to_mnist
from mnist_app.testing import require

UNIPEN = """.SEGMENT DIGIT    0 ? "7"
.COMMENT 7 12  224
.PEN_DOWN
 100  400
 400  400
 200  100
.PEN_UP
.DT 100

.SEGMENT DIGIT    1 ? "1"
.COMMENT 1 3  225
.PEN_DOWN
 250  400
 250  100
.PEN_UP
.PEN_DOWN
 240  380
 200  340
.PEN_UP
"""


def test_unipen_text_parses_into_labelled_strokes():
    seven, one = pendigits.parse(UNIPEN)
    assert (seven.label, seven.writer, len(seven.strokes)) == (7, 12, 1)
    assert (one.label, one.writer, len(one.strokes)) == (1, 3, 2)
    np.testing.assert_array_equal(seven.strokes[0][1], [400, 400])


def test_rendering_flips_y_so_the_seven_has_its_bar_on_top():
    seven = pendigits.parse(UNIPEN)[0]
    ink = pendigits.render(seven, brush=12, size=0.6)[..., 0]
    rows = np.flatnonzero(ink.max(axis=1) > 128)
    top_row, bottom_row = ink[rows[0] + 3] > 128, ink[rows[-1] - 3] > 128
    assert top_row.sum() > 5 * bottom_row.sum()  # the long horizontal bar is at the top


@pytest.mark.parametrize("scheme", pendigits.SCHEMES)
def test_every_colour_scheme_preprocesses_to_the_same_digit(scheme):
    seven = pendigits.parse(UNIPEN)[0]
    reference = canvas_to_mnist(pendigits.render(seven, scheme="white-on-black"))
    np.testing.assert_allclose(canvas_to_mnist(pendigits.render(seven, scheme=scheme)), reference, atol=0.02)


def test_random_drawings_stay_on_the_canvas():
    seven = pendigits.parse(UNIPEN)[0]
    for seed in range(20):
        image, settings = pendigits.random_drawing(seven, np.random.default_rng(seed))
        assert image.shape == (280, 280, 4) and image.dtype == np.uint8
        assert 10 <= settings["brush"] <= 30 and settings["scheme"] in pendigits.SCHEMES
        canvas_to_mnist(image)  # never empty: the digit was not drawn off the canvas


def test_held_out_and_tuning_writers_never_overlap():
    digits = [pendigits.PenDigit(0, writer, ()) for writer in range(1, 31)]
    held_out, tuning = pendigits.select_writers(digits, "heldout"), pendigits.select_writers(digits, "tuning")
    assert {d.writer for d in held_out}.isdisjoint({d.writer for d in tuning})
    assert len(held_out) + len(tuning) == 30 and len(tuning) == 10


def test_the_shared_pen_digits_load():
    path = pendigits.default_path()
    require(path.exists(), f"{path} is missing")
    digits = pendigits.load(path)
    assert len(digits) == 7494 and {d.label for d in digits} == set(range(10))
    assert len({d.writer for d in digits}) == 30
