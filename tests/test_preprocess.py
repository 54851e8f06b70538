import numpy as np
import pytest

from mnist_app.preprocess import BOX, CENTRE, EmptyCanvasError, canvas_to_mnist, centre_of_mass


def draw_blob(shape=(280, 280), rows=slice(100, 180), cols=slice(120, 140)) -> np.ndarray:
    """A white-on-black grey image with one filled rectangle of ink."""
    image = np.zeros(shape, dtype=np.uint8)
    image[rows, cols] = 255
    return image


def as_scheme(ink: np.ndarray, scheme: str) -> np.ndarray:
    """Grey ink (H, W) uint8 -> the RGBA st_canvas returns in one of its colour schemes."""
    rgba = np.zeros((*ink.shape, 4), np.uint8)
    if scheme == "white-on-black":
        rgba[..., :3], rgba[..., 3] = ink[..., None], 255
    elif scheme == "black-on-white":
        rgba[..., :3], rgba[..., 3] = 255 - ink[..., None], 255
    else:  # ink only in alpha, on a transparent canvas
        rgba[..., :3], rgba[..., 3] = 30, ink
    return rgba


def ring(centre=(140, 140), radius=60, width=20, size=280) -> np.ndarray:
    rows, cols = np.indices((size, size))
    distance = np.hypot(rows - centre[0], cols - centre[1])
    return ((np.abs(distance - radius) < width / 2) * 255).astype(np.uint8)


def ink_box(digit: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


DRAWINGS = {
    "centred": ring(),
    "off-centre": ring(centre=(50, 220), radius=30, width=12),
    "tiny": ring(centre=(200, 80), radius=6, width=4),
    "thick": ring(radius=70, width=50),
    "thin": ring(radius=90, width=3),
    "tall bar": draw_blob(),
}


@pytest.mark.parametrize("name", DRAWINGS)
@pytest.mark.parametrize("scheme", ["white-on-black", "black-on-white", "alpha-only"])
def test_drawing_becomes_an_mnist_digit(name, scheme):
    digit = canvas_to_mnist(as_scheme(DRAWINGS[name], scheme))
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0.0 and digit.max() == pytest.approx(1.0)
    assert max(ink_box(digit)) == BOX  # the longer side fills the 20x20 box
    com = centre_of_mass(digit)
    assert abs(com[0] - CENTRE) <= 0.5 and abs(com[1] - CENTRE) <= 0.5


def test_digit_is_white_on_black_whatever_the_scheme():
    digits = [canvas_to_mnist(as_scheme(ring(), s)) for s in ("white-on-black", "black-on-white", "alpha-only")]
    for digit in digits:
        assert digit[0, 0] == 0.0 and digit.max() == 1.0
    np.testing.assert_allclose(digits[0], digits[1], atol=0.02)
    np.testing.assert_allclose(digits[0], digits[2], atol=0.02)


def test_aspect_ratio_is_kept():
    height, width = ink_box(canvas_to_mnist(draw_blob(rows=slice(40, 240), cols=slice(100, 150))))
    assert height == 20 and width == 5


def test_grey_and_rgb_arrays_are_accepted():
    grey = ring()
    rgb = np.repeat(grey[..., None], 3, axis=2)
    np.testing.assert_allclose(canvas_to_mnist(grey), canvas_to_mnist(rgb), atol=1e-6)
    np.testing.assert_allclose(canvas_to_mnist(grey), canvas_to_mnist(grey / 255.0), atol=1e-6)


@pytest.mark.parametrize("scheme", ["white-on-black", "black-on-white", "alpha-only"])
def test_blank_canvas_raises_empty_canvas_error(scheme):
    with pytest.raises(EmptyCanvasError):
        canvas_to_mnist(as_scheme(np.zeros((280, 280), np.uint8), scheme))


def test_a_blank_canvas_is_caught_as_a_value_error_by_callers_that_know_only_value_error():
    with pytest.raises(ValueError, match="empty"):
        canvas_to_mnist(np.zeros((280, 280), np.uint8))


def test_a_lone_dot_gives_a_sane_digit():
    image = np.zeros((280, 280), np.uint8)
    image[100:103, 200:203] = 255
    digit = canvas_to_mnist(image)
    assert digit.shape == (28, 28) and np.isfinite(digit).all() and digit.max() == pytest.approx(1.0)


def test_a_fully_inked_canvas_is_all_background_so_it_reads_as_empty():
    with pytest.raises(EmptyCanvasError, match="empty"):
        canvas_to_mnist(np.full((280, 280), 255, np.uint8))


@pytest.mark.parametrize(
    "bad, message",
    [
        (None, "None"),
        (np.zeros((280,)), "shape"),
        (np.zeros((28, 28, 2)), "shape"),
        (np.zeros((2, 28, 28, 4)), "shape"),
        (np.zeros((0, 28)), "sides"),
        (np.full((28, 28), np.nan), "NaN"),
        (np.full((28, 28), np.inf), "NaN"),
        (np.full((28, 28), -5.0), "0..1"),
        (np.array([["a"]]), "numbers"),
        ("not an image", "numbers"),
    ],
)
def test_unusable_input_is_a_clear_value_error(bad, message):
    with pytest.raises(ValueError, match=message):
        canvas_to_mnist(bad)


def test_real_mnist_digits_survive_preprocessing_unchanged_in_class(mnist_sample):
    """An MNIST digit already follows the recipe: re-preprocessing it barely moves it."""
    digits = mnist_sample.x_test[:50]
    again = np.stack([canvas_to_mnist(d) for d in digits])
    original = digits / 255.0
    assert np.mean(np.abs(again - original)) < 0.08
