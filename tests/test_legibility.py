"""Dots, dashes, Xs, +, ? and scribbles are not digits; two digits are several; real digits are digits, however they
are drawn; tiny ones are too small. Scribbles and signs drawn like digits are rarely named as a sure digit."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_app import models
from mnist_app.data import pendigits
from mnist_app.data.pendigits import placed
from mnist_app.numbers import one_digit_problem, written
from mnist_app.numbers.search import read_ink
from mnist_app.numbers.stroked import one_stroke_explains
from mnist_app.numbers.strokes import as_canvas_objects, from_canvas
from mnist_app.preprocess import EmptyCanvasError, canvas_to_mnist, ink_map
from mnist_app.reading import made_marks, marks
from mnist_app.reading.legibility import NOT_A_DIGIT, SEVERAL_DIGITS, TOO_SMALL, measure, measure_ink, problem
from mnist_app.reading.marks import mark_problem

from scaffold import ROOT, require, require_pen_digits


def drawn(
    strokes: list, brush: float, scheme: str = "white-on-black", supersample: int = pendigits.SUPERSAMPLE
) -> np.ndarray:
    """Strokes in canvas pixels, drawn on the 280 px canvas as the app receives them (RGBA)."""
    points = [np.asarray(s, dtype=float) for s in strokes]
    return pendigits.render_strokes(points, brush, scheme, pendigits.CANVAS, supersample)


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
    require_pen_digits()
    digits = pendigits.select_writers(pendigits.load(), "tuning")[::4]
    settings = [(6, 0.85), (18, 0.7), (40, 0.6)]  # brush, and the digit's height as a share of the canvas
    flagged = sum(problem(pendigits.render(d, brush, size)) is not None for d in digits for brush, size in settings)
    assert flagged <= 0.002 * len(digits) * len(settings)


@pytest.fixture(scope="module")
def tuning_digits() -> dict[int, list[pendigits.PenDigit]]:
    """The tuning writers' (1-20) pen digits by label."""
    require_pen_digits()
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
    return pendigits.render_strokes(two_digit_strokes(first, second, gap), 14, "black-on-white")


def two_digit_strokes(first: pendigits.PenDigit, second: pendigits.PenDigit, gap: float = 30.0) -> list[np.ndarray]:
    """two_digits' strokes, in canvas pixels, in the order written."""
    left = placed(first, 110.0, 25.0, 140.0)
    start = max(s[:, 0].max() for s in left) + 14 + gap
    return left + placed(second, 110.0, start, 140.0)


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


def test_along_the_canvas_strokes_two_digits_are_several_and_one_digit_is_one(tuning_digits, model):
    """The Draw page hands over the canvas's strokes: two digits side by side part along them, and a 4's separate
    strokes or a 5's cap stay one digit (every label, 5 writers' each)."""
    pairs = [(tuning_digits[a][k], tuning_digits[b][k]) for k, (a, b) in enumerate([(4, 2), (1, 7), (3, 5), (9, 0)])]
    twos = [two_digit_strokes(*pair) for pair in pairs]
    assert [one_digit_problem(drawn(s, 14), model, as_canvas_objects(s, 14)) for s in twos] == [SEVERAL_DIGITS] * 4
    ones = [pendigits.canvas_strokes(d, 0.7) for label in range(10) for d in tuning_digits[label][:5]]
    several = [one_digit_problem(drawn(s, 18), model, as_canvas_objects(s, 18)) == SEVERAL_DIGITS for s in ones]
    assert sum(several) <= 1
    malformed = {"objects": [{"type": "path", "path": [["Z", "?"]]}]}  # never from the canvas: the ink is cut
    assert one_digit_problem(drawn(twos[0], 14), model, malformed) == SEVERAL_DIGITS


def test_one_stroke_that_explains_the_ink_is_one_digit_as_the_number_reader_finds(tuning_digits, model):
    """The Digit canvas's shortcut: one stroke that explains its ink is not handed to the number reader, which would
    make it its only candidate. The reader agrees on every one-stroke digit; one stroke beside ink it does not
    explain (a second digit) is read whole, and found to be several."""
    drawings = [pendigits.canvas_strokes(d, 0.7) for label in range(10) for d in tuning_digits[label][:8]]
    ones = [strokes for strokes in drawings if len(strokes) == 1]
    assert len(ones) >= 30
    for strokes in ones:
        image, objects = drawn(strokes, 18), as_canvas_objects(strokes, 18)
        assert one_stroke_explains(ink_map(image), from_canvas(objects))
        assert len(read_ink(ink_map(image), model, objects).digits) <= 1
    pair = two_digit_strokes(tuning_digits[1][0], tuning_digits[7][0])
    first_only = as_canvas_objects(pair[:1], 14)
    assert not one_stroke_explains(ink_map(drawn(pair, 14)), from_canvas(first_only))
    assert one_digit_problem(drawn(pair, 14), model, first_only) == SEVERAL_DIGITS


def test_several_digits_needs_the_model(tuning_digits):
    assert problem(two_digits(tuning_digits[4][0], tuning_digits[2][0])) != SEVERAL_DIGITS


# --- Scribbles and signs the ink's measures let through (issue 35, point 4): the marks network judges them ---


def canvas_drawn(strokes: list, brush: float) -> np.ndarray:
    """`drawn`, as Chromium's canvas draws it: what the marks network is fitted on and what the page hands it."""
    return drawn(strokes, brush, supersample=FAITHFUL)


FAITHFUL = pendigits.CANVAS_SUPERSAMPLE
CANVAS_DRAWING = Path(__file__).parent / "data" / "canvas_drawing.npz"  # benchmarks/canvas_drawings.py kept it


def test_pen_strokes_are_rendered_as_chromium_s_canvas_drew_them():
    """A 3 of writer 18 drawn with the mouse in Chromium (brush 20): rendered as the canvas draws, the same pointer
    path leaves the same ink and stroke width; pendigits' own 2x rendering leaves its strokes wider and harder."""
    with np.load(CANVAS_DRAWING) as saved:
        canvas, brush = ink_map(saved["image"]), float(saved["brush"])
        strokes = [np.array(s) for s in json.loads(str(saved["drawn"]))]
    faithful = ink_map(pendigits.render_strokes(strokes, brush, "alpha-only", supersample=FAITHFUL))
    plain = ink_map(pendigits.render_strokes(strokes, brush, "alpha-only"))
    assert abs(canvas.sum() / faithful.sum() - 1) < 0.002 < abs(canvas.sum() / plain.sum() - 1)
    assert abs(measure_ink(faithful).stroke - measure_ink(canvas).stroke) < 0.15
    assert np.abs(faithful - canvas).mean() < np.abs(plain - canvas).mean()


def test_drawing_as_the_canvas_draws_leaves_every_other_drawing_as_it_was():
    """The reading models' training drawings keep pendigits' own rendering, however often the marks network's are
    made: nothing is swapped."""
    strokes = [np.array([[60.0, 60.0], [220.0, 200.0]])]
    before = pendigits.render_strokes(strokes, 20, "alpha-only")
    made_marks.made(3, seed=0)
    assert not np.array_equal(before, pendigits.render_strokes(strokes, 20, "alpha-only", supersample=FAITHFUL))
    np.testing.assert_array_equal(pendigits.render_strokes(strokes, 20, "alpha-only"), before)


def page_problem(image: np.ndarray, model: models.Model) -> str | None:
    """What the Draw page says is wrong with a drawing (ui/draw.py): several digits or the ink's, then a mark."""
    return one_digit_problem(image, model) or mark_problem(image)


def named_sure(image: np.ndarray, model: models.Model) -> bool:
    """The page names one sure digit: nothing is wrong with the drawing and the model is sure of its reading."""
    reading = models.read(model.predict_proba(canvas_to_mnist(image)[None])[0], model.unsure_below)
    return page_problem(image, model) is None and not reading.unsure


def turned(strokes: list, degrees: float, centre: tuple = (140, 140)) -> list:
    """Strokes turned about the canvas's centre: a sign drawn askew."""
    a = np.deg2rad(degrees)
    return [
        (np.asarray(s, float) - centre) @ np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]).T + centre
        for s in strokes
    ]


QUESTION_DOT_CLOSE = [[[95, 80], [110, 45], [150, 35], [185, 60], [185, 100], [145, 130], [140, 175]], [[140, 215]]]


def test_scribbles_are_rarely_named_as_a_sure_digit(model):
    """Scribbles made as benchmarks/not_one_digit.py makes them, with its tuning seed: at most 10% named. The goal is
    5%, met on the tuning writers' 100 (4%); these 40 are fewer, so a margin."""
    rngs = [np.random.default_rng((1, 100, k)) for k in range(40)]
    images = [
        written.on_square(written.scribble(rng), rng.uniform(*written.BRUSHES), "white-on-black", rng, FAITHFUL)
        for rng in rngs
    ]
    assert sum(named_sure(image, model) for image in images) <= 0.10 * len(images)


@pytest.mark.parametrize("sign", ["+", "x", "?"])
def test_signs_are_rarely_named_as_a_sure_digit(model, sign):
    """+ x ? made as benchmarks/not_one_digit.py makes them (askew, 80-200 px), tuning seeds: goal, at most 5% named."""
    rngs = [np.random.default_rng((1, 200, k)) for k in range(40)]
    images = [
        written.on_square(written.sign(sign, rng), rng.uniform(*written.BRUSHES), "black-on-white", rng, FAITHFUL)
        for rng in rngs
    ]
    assert sum(named_sure(image, model) for image in images) <= 0.05 * len(images)


@pytest.mark.parametrize("brush", [20, 30])
def test_a_question_mark_whose_dot_nearly_touches_it_is_not_a_digit(model, brush):
    """Its dot is closer to the stem than a stroke width, so the ink's check for a separate dot passes it (a 7)."""
    assert page_problem(canvas_drawn(QUESTION_DOT_CLOSE, brush), model) == NOT_A_DIGIT


@pytest.mark.parametrize("brush", [10, 20, 30])
def test_a_plus_drawn_askew_is_not_a_digit(model, brush):
    """Turned 25 degrees its arms no longer leave the corners clear, so the ink's check for a + passes it (a 4)."""
    assert page_problem(canvas_drawn(turned(NOT_DIGITS["+"], 25), brush), model) == NOT_A_DIGIT


@pytest.fixture(scope="module")
def unseen_digits() -> list[pendigits.PenDigit]:
    """Every 2nd pen digit of writers 16-20: tuning writers that the marks network was never fitted on."""
    require_pen_digits()
    return [d for d in pendigits.select_writers(pendigits.load(), "tuning") if d.writer > 15][::2]


def test_real_8s_with_two_loops_are_still_read(unseen_digits, model):
    """An 8's two loops and crossing look like a scribble's; drawn thin to wide, they are still read as sure 8s."""
    eights = [d for d in unseen_digits if d.label == 8][:20]
    images = [pendigits.render(d, brush, 0.7, supersample=FAITHFUL) for d in eights for brush in (8, 18, 30)]
    read = [
        named_sure(image, model) and model.predict_proba(canvas_to_mnist(image)[None])[0].argmax() == 8
        for image in images
    ]
    assert sum(read) >= 0.9 * len(images)


def test_digits_of_writers_the_marks_network_never_saw_are_rarely_marks(unseen_digits):
    """What the check costs real digits: goal for the page, at most 6% flagged in all (about 2% unsure before it)."""
    images, _, _ = pendigits.as_canvas_drawings(unseen_digits, 0, FAITHFUL)
    assert sum(mark_problem(image) == NOT_A_DIGIT for image in images) <= 0.03 * len(images)


def test_mnist_digits_are_rarely_marks(mnist_sample):
    """MNIST's bold strokes look more like a scribble than a pen's do: a few in a hundred, not more."""
    assert sum(mark_problem(digit) == NOT_A_DIGIT for digit in mnist_sample.x_test[:300]) <= 0.05 * 300


def test_the_shipped_network_read_in_numpy_gives_what_keras_gives(mnist_sample):
    """The page reads the marks network in NumPy (no TensorFlow import, a fraction of a millisecond a drawing)."""
    import keras

    seen = np.concatenate(
        [
            made_marks.made(30, seed=5, seen=marks.as_seen),
            np.stack([marks.as_seen(d) for d in mnist_sample.x_test[:30]]),
        ]
    )
    keras_read = np.asarray(keras.saving.load_model(marks.FILE)(seen[..., None], training=False)).ravel()
    np.testing.assert_allclose(marks.mark_probability(seen), keras_read, atol=1e-5)
    assert keras_read.min() < 0.1 and keras_read.max() > 0.9  # both kinds among them


def test_judging_a_drawing_imports_no_tensorflow():
    judged = (
        "import sys, numpy as np\n"
        "from mnist_app.data import pendigits\n"
        "from mnist_app.reading import marks\n"
        "marks.mark_problem(pendigits.render_strokes([np.array([[60.0, 60], [220, 220]])], 20, 'white-on-black'))\n"
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    ran = subprocess.run([sys.executable, "-c", judged], cwd=ROOT, capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "False"


def test_a_network_file_of_another_kind_is_refused_by_name(tmp_path):
    other = tmp_path / "model.keras"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("config.json", json.dumps({"config": {"layers": [{"class_name": "Dense", "config": {}}]}}))
    with pytest.raises(ValueError, match="python train.py not-a-digit"):
        marks.mark_probability(np.zeros((1, 28, 28), np.float32), other)


def test_without_a_usable_network_file_the_check_is_off_and_says_so_in_the_log(tmp_path, caplog):
    scribble = pendigits.render_strokes(
        [np.array([[60.0, 60], [220, 90], [70, 150], [210, 220]])], 20, "white-on-black"
    )
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    for path in (tmp_path / "missing.keras", tmp_path / "broken.keras"):
        assert mark_problem(scribble, path) is None  # the page reads on as it did before the check
    assert caplog.text.count("the not-a-digit check is off") == 2


def test_without_a_usable_network_file_the_number_readers_doubt_is_none_and_says_so_in_the_log(tmp_path, caplog):
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    pieces = np.zeros((3, 28, 28), np.float32)
    for path in (tmp_path / "missing.keras", tmp_path / "broken.keras"):
        assert marks.doubt(pieces, path).tolist() == [0.0, 0.0, 0.0]  # a photo is read as it was before the doubt
    assert caplog.text.count("the not-a-digit doubt is off") == 2


def test_fit_tells_digits_from_marks(mnist_sample):
    """The fitting recipe on a small set: after ten epochs it tells the digits it saw from the marks it saw."""
    digits = np.stack([marks.as_seen(digit) for digit in mnist_sample.x_train[:300]])
    marks_seen = made_marks.made(300, seed=0, seen=marks.as_seen)
    network = marks.fit(digits, marks_seen, epochs=10, batch=16)
    guessed = np.asarray(network(np.concatenate([digits, marks_seen])[..., None], training=False)).ravel() > 0.5
    assert np.mean(guessed == np.repeat([False, True], [len(digits), len(marks_seen)])) >= 0.9
