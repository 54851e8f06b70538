"""Dots, dashes, Xs, +, ? and scribbles are not digits; two digits are several; real digits are digits, however they
are drawn; tiny ones are too small."""

import numpy as np
import pytest
from PIL import Image

from mnist_app import models
from mnist_app.data import pendigits
from mnist_app.data.pendigits import placed
from mnist_app.numbers import one_digit_problem
from mnist_app.preprocess import EmptyCanvasError
from mnist_app.reading.legibility import NOT_A_DIGIT, SEVERAL_DIGITS, TOO_SMALL, measure, problem

from scaffold import require


def drawn(strokes: list, brush: float, scheme: str = "white-on-black") -> np.ndarray:
    """Strokes in canvas pixels, drawn on the 280 px canvas as the app receives them (RGBA)."""
    return pendigits.render_strokes([np.asarray(s, dtype=float) for s in strokes], brush, scheme)


def zigzag(lines: int = 20) -> list:
    """Back and forth across the canvas, a little lower each time: scribbling something out."""
    return [[[40 + 200 * (i % 2), 60 + 8 * i] for i in range(lines)]]


def curls() -> list:
    """A circle drawn with small loops all along it."""
    t = np.linspace(0, 2 * np.pi, 300)
    return [np.column_stack([140 + 90 * np.cos(t) + 25 * np.cos(9 * t), 140 + 90 * np.sin(t) + 25 * np.sin(11 * t)])]


SEVEN = [[[60, 50], [220, 50], [120, 230]]]  # a 7 as one stroke, 180 px tall

NOT_DIGITS = {
    "dot": [[[140, 140]]],
    "dash": [[[60, 140], [220, 145]]],
    "short dash": [[[110, 140], [170, 142]]],
    "slanted dash": [[[60, 160], [220, 120]]],
    "X": [[[60, 60], [220, 220]], [[220, 60], [60, 220]]],
    "small X": [[[100, 100], [180, 180]], [[180, 100], [100, 180]]],
    "+": [[[60, 140], [220, 140]], [[140, 60], [140, 220]]],
    "?": [[[90, 70], [110, 35], [150, 25], [190, 50], [190, 90], [145, 120], [140, 150]], [[140, 235]]],
}


@pytest.mark.parametrize("brush", [6, 20, 40])  # the slider's narrowest, default and widest brush
@pytest.mark.parametrize("shape", NOT_DIGITS)
def test_a_dot_a_dash_or_an_x_is_not_a_digit(shape, brush):
    assert problem(drawn(NOT_DIGITS[shape], brush)) == NOT_A_DIGIT


@pytest.mark.parametrize("scribble, brush", [(zigzag, 6), (zigzag, 12), (zigzag, 20), (curls, 6), (curls, 20)])
def test_a_scribble_is_not_a_digit(scribble, brush):
    assert problem(drawn(scribble(), brush)) == NOT_A_DIGIT


@pytest.mark.parametrize("scheme", pendigits.SCHEMES)
def test_mnist_digits_drawn_on_the_canvas_are_digits(mnist_sample, scheme):
    for digit in mnist_sample.x_test[:300]:
        grey = np.asarray(Image.fromarray(digit).resize((280, 280), Image.Resampling.BILINEAR))
        assert problem(pendigits.colour(grey, scheme)) is None


def test_mnist_digits_at_their_own_size_are_digits(mnist_sample):
    assert [problem(digit) for digit in mnist_sample.x_test[:300]] == [None] * 300


def test_a_digit_a_few_brush_widths_tall_is_too_small_and_drawn_bigger_is_a_digit():
    small = [np.asarray(s) * 0.2 + 100 for s in SEVEN]  # its ink 57 px tall: under 3 widths of the 20 px brush
    assert problem(drawn(small, 20)) == TOO_SMALL
    assert problem(drawn(SEVEN, 20)) is None
    assert problem(drawn(small, 6)) is None  # as small, but with a thin brush: its strokes stay apart


def test_the_ink_is_measured_in_stroke_widths():
    ink = measure(drawn([[[40, 140], [240, 140]]], 20))  # a 200 px line, 20 px thick
    assert ink.stroke == pytest.approx(20, rel=0.15) and ink.across == pytest.approx(11, rel=0.15)
    assert ink.rise < 0.05 and ink.crossings == (1, 1, 1, 1)


def test_a_blank_canvas_raises_empty_canvas_error():
    with pytest.raises(EmptyCanvasError):
        measure(np.zeros((280, 280, 4), np.uint8))


def test_pen_digits_of_writers_1_to_20_are_almost_never_flagged():
    """Every 4th pen digit of the tuning writers, drawn with the slider's thinnest, default and widest brushes."""
    require(pendigits.default_path().exists(), f"{pendigits.default_path()} is missing (../shared/pendigits)")
    digits = pendigits.select_writers(pendigits.load(), "tuning")[::4]
    settings = [(6, 0.85), (18, 0.7), (40, 0.6)]  # brush, and the digit's height as a share of the canvas
    flagged = sum(problem(pendigits.render(d, brush, size)) is not None for d in digits for brush, size in settings)
    assert flagged <= 0.002 * len(digits) * len(settings)


@pytest.fixture(scope="module")
def tuning_digits() -> dict[int, list[pendigits.PenDigit]]:
    """The tuning writers' (1-20) pen digits by label."""
    require(pendigits.default_path().exists(), f"{pendigits.default_path()} is missing (../shared/pendigits)")
    digits = pendigits.select_writers(pendigits.load(), "tuning")
    return {label: [d for d in digits if d.label == label] for label in range(10)}


@pytest.mark.parametrize("brush", [6, 8, 10])
def test_a_3_drawn_21_px_tall_is_too_small_not_no_digit(tuning_digits, brush):
    """Issue 35: a 21-px-tall 3 got no 'draw it bigger'. With a 10-12 px brush it measures under 2 stroke widths
    across, which was all it took to be called a dot, so it was 'not a digit'. (With a 12 px brush some measure as a
    click does, 1.8 widths and square: ink alone cannot tell those from a dot.)"""
    for three in tuning_digits[3][:20]:
        image = pendigits.render(three, brush, (21 - brush) / pendigits.CANVAS)  # its ink 21-22 px tall
        assert problem(image) == TOO_SMALL


def two_digits(first: pendigits.PenDigit, second: pendigits.PenDigit, gap: float = 30.0) -> np.ndarray:
    """Two pen digits 110 px tall side by side on the single-digit canvas, `gap` px of blank between their ink."""
    left = placed(first, 110.0, 25.0, 140.0)
    start = max(s[:, 0].max() for s in left) + 14 + gap
    return pendigits.render_strokes(left + placed(second, 110.0, start, 140.0), 14, "black-on-white")


@pytest.fixture(scope="module")
def model() -> models.Model:
    require("numpy-mlp" in models.available(), "the numpy-mlp model is not trained")
    return models.load("numpy-mlp")


def test_two_digits_side_by_side_are_several_digits(tuning_digits, model):
    pairs = [(tuning_digits[a][k], tuning_digits[b][k]) for k, (a, b) in enumerate([(4, 2), (1, 7), (3, 5), (9, 0)])]
    assert [one_digit_problem(two_digits(*pair), model) for pair in pairs] == [SEVERAL_DIGITS] * 4


def test_one_digit_is_not_several_digits(tuning_digits, model):
    """Every label, 5 writers' each: a 4's separate strokes or a 5's cap are one digit, not several."""
    images = [pendigits.render(d, 18, 0.7) for label in range(10) for d in tuning_digits[label][:5]]
    assert sum(one_digit_problem(image, model) == SEVERAL_DIGITS for image in images) <= 1


def test_several_digits_needs_the_model(tuning_digits):
    assert problem(two_digits(tuning_digits[4][0], tuning_digits[2][0])) != SEVERAL_DIGITS
