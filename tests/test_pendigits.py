import numpy as np
import pytest

from mnist_app.data import pendigits
from mnist_app.preprocess import canvas_to_mnist

from scaffold import require

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


def test_writers_1_to_20_may_be_trained_on_and_21_to_30_are_held_out():
    digits = [pendigits.PenDigit(0, writer, ()) for writer in range(1, 31)]
    held_out, tuning = pendigits.select_writers(digits, "heldout"), pendigits.select_writers(digits, "tuning")
    assert {d.writer for d in tuning} == set(range(1, 21)) == set(pendigits.TUNING_WRITERS)
    assert {d.writer for d in held_out} == set(range(21, 31)) == set(pendigits.HELD_OUT_WRITERS)


def test_the_shared_pen_digits_load():
    path = pendigits.default_path()
    require(path.exists(), f"{path} is missing")
    digits = pendigits.load(path)
    assert len(digits) == 7494 and {d.label for d in digits} == set(range(10))
    assert len({d.writer for d in digits}) == 30


# --- the renderer's variations: drawings the way people draw on the canvas ---

THREE_STROKES = pendigits.PenDigit(
    4, 1, (np.array([[0.0, 0.0], [0.0, 100.0]]), np.array([[0.0, 0.0], [60.0, 0.0]]), np.array([[60.0, 50.0]]))
)


def test_a_positive_shear_slants_the_top_to_the_right():
    upright = pendigits.parse(UNIPEN)[1]  # the 1: a vertical stroke
    slanted = pendigits.reshaped(upright, shear=0.3)
    top, bottom = slanted.strokes[0][0], slanted.strokes[0][1]  # drawn from the top (y=400) down (y=100)
    assert top[0] - bottom[0] == pytest.approx(0.3 * (400 - 100))
    assert top[1] - bottom[1] == pytest.approx(300)  # heights are untouched


def test_aspect_scales_the_width_only():
    seven = pendigits.parse(UNIPEN)[0]
    wide = np.concatenate(pendigits.reshaped(seven, aspect=1.25).strokes)
    plain = np.concatenate(pendigits.reshaped(seven).strokes)
    assert np.ptp(wide[:, 0]) == pytest.approx(1.25 * np.ptp(plain[:, 0]))
    assert np.ptp(wide[:, 1]) == pytest.approx(np.ptp(plain[:, 1]))


def test_reordering_permutes_the_strokes_and_keeps_each_one():
    orders = set()
    for seed in range(30):
        moved = pendigits.reordered(THREE_STROKES, np.random.default_rng(seed))
        assert len(moved.strokes) == 3
        index = []
        for stroke in moved.strokes:
            matches = [
                i
                for i, s in enumerate(THREE_STROKES.strokes)
                if np.array_equal(s, stroke) or np.array_equal(s[::-1], stroke)
            ]
            index.append(matches[0])
        assert sorted(index) == [0, 1, 2]
        orders.add(tuple(index))
    assert len(orders) > 3  # other orders than the writer's appear


def test_stroke_order_does_not_change_the_drawing():
    strokes = pendigits.canvas_strokes(THREE_STROKES)
    drawn = pendigits.render_strokes(strokes, 12, "white-on-black")
    np.testing.assert_array_equal(pendigits.render_strokes(strokes[::-1], 12, "white-on-black"), drawn)


def test_respacing_keeps_the_ends_and_steps_unevenly_within_the_range():
    stroke = np.array([[0.0, 0.0], [200.0, 0.0], [200.0, 100.0]])
    points = pendigits.respaced(stroke, np.random.default_rng(0), (2.0, 12.0))
    np.testing.assert_array_equal(points[[0, -1]], stroke[[0, -1]])
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    assert steps[:-1].min() >= 2.0 - 1e-9 and steps.max() <= 12.0 + 1e-9
    assert steps[:-1].std() > 1.0  # uneven, as pointer events arrive
    assert np.all((points[:, 1] == 0) | (points[:, 0] == 200))  # still on the path


def test_wobble_moves_points_by_at_most_its_amount():
    stroke = np.column_stack([np.linspace(0, 200, 80), np.zeros(80)])
    moved = pendigits.wobbled(stroke, np.random.default_rng(1), 3.0)
    shift = np.abs(moved - stroke)
    assert shift.max() <= 3.0 + 1e-9 and shift.mean() > 0.3
    np.testing.assert_array_equal(pendigits.wobbled(stroke, np.random.default_rng(1), 0.0), stroke)


def test_varied_settings_span_the_whole_brush_slider_and_every_scheme():
    settings = [pendigits.varied_settings(np.random.default_rng(seed)) for seed in range(400)]
    brushes = [s["brush"] for s in settings]
    assert pendigits.BRUSH_RANGE == (6.0, 40.0)  # the slider in ui/draw.py
    assert min(brushes) >= 6 and max(brushes) <= 40 and min(brushes) < 8 and max(brushes) > 38
    assert {s["scheme"] for s in settings} == set(pendigits.SCHEMES)
    assert all(abs(s["shear"]) <= pendigits.SHEAR_RANGE for s in settings)


def test_varied_drawings_stay_on_the_canvas_and_differ_by_seed():
    seven = pendigits.parse(UNIPEN)[0]
    digits = []
    for seed in range(20):
        image, settings = pendigits.varied_drawing(seven, np.random.default_rng(seed))
        assert image.shape == (280, 280, 4) and image.dtype == np.uint8
        ink = image[..., 3] if settings["scheme"] == "alpha-only" else image[..., 0]
        ink = 255 - ink if settings["scheme"] == "black-on-white" else ink
        assert ink[[0, -1], :].max() < 128 and ink[:, [0, -1]].max() < 128  # no stroke runs off the edge
        digits.append(canvas_to_mnist(image))
    assert not np.allclose(digits[0], digits[1])
    again, _ = pendigits.varied_drawing(seven, np.random.default_rng(0))
    np.testing.assert_array_equal(canvas_to_mnist(again), digits[0])  # seeded: the same drawing again
