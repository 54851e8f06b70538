"""The pages' pictures show what they are given."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from mnist_app.reading import explain
from mnist_app.reports import plots


def test_an_enlarged_digit_keeps_its_pixels_and_shows_a_grid():
    digit = np.zeros((28, 28), np.float32)
    digit[10, 12] = 1.0
    big = plots.enlarge(digit, factor=8)
    assert big.shape == (224, 224) and big.dtype == np.uint8
    assert big[10 * 8 + 4, 12 * 8 + 4] == 255 and big[4, 4] == 0 and big[0, 4] > 0


def test_an_evidence_panel_is_red_for_blue_against_and_shows_the_digit_where_there_is_none():
    digit = np.zeros((28, 28), np.float32)
    digit[5:20, 10] = 1.0
    evidence = np.zeros((28, 28))
    evidence[6, 10], evidence[18, 10] = 1.0, -1.0
    panel = plots.evidence_panel(digit, evidence)
    assert panel.shape == (plots.PANEL, plots.PANEL, 3) and panel.dtype == np.uint8

    def colour(row, col):
        return panel[row * 8 + 4, col * 8 + 4].astype(int)

    red, blue = colour(6, 10), colour(18, 10)
    assert red[0] > 2 * max(red[1:]) and blue[2] > 2 * max(blue[:2])
    assert list(colour(12, 10)) == [128] * 3 and list(colour(0, 0)) == [0] * 3  # the ink, dimmed; the background


@pytest.mark.parametrize("count", [1, 2, 4])
def test_what_a_network_looks_at_is_one_panel_of_the_same_size_however_many_maps(count):
    maps = [explain.Panel(f"unit {k}", np.full((28, 28), k - 1.5), signed=True) for k in range(count)]
    panel = plots.focus_panel(np.zeros((28, 28), np.float32), maps)
    assert panel.shape == (plots.PANEL, plots.PANEL, 3) and panel.dtype == np.uint8
    if count > 1:  # tiled two by two, white lines between
        assert (panel[plots.PANEL // 2, :] == 255).all() and (panel[:, plots.PANEL // 2] == 255).all()


def test_a_heat_map_lies_over_the_dimmed_digit():
    heat = np.zeros((28, 28))
    heat[3, 3] = 1.0
    panel = plots.focus_panel(np.ones((28, 28), np.float32), [explain.Panel("Grad-CAM", heat, signed=False)])
    assert panel[3 * 8 + 4, 3 * 8 + 4].sum() > panel[20 * 8 + 4, 20 * 8 + 4].sum()  # bright where it fires


def test_a_thumbnail_is_a_png_inside_a_data_uri_shrunk_to_its_size(mnist_sample):
    digit = mnist_sample.x_test[0] / 255.0
    canvas = Image.fromarray(np.kron(mnist_sample.x_test[0], np.ones((10, 10), np.uint8)))  # 280 x 280, as drawn
    as_drawn = io.BytesIO()
    canvas.save(as_drawn, format="PNG")
    for picture in (as_drawn.getvalue(), plots.enlarge(digit)):
        uri = plots.thumbnail_uri(picture, 120)
        assert uri.startswith("data:image/png;base64,")
        shrunk = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
        original = Image.open(io.BytesIO(picture)) if isinstance(picture, bytes) else Image.fromarray(picture)
        assert shrunk.size == (120, 120)
        ink = np.asarray(shrunk.convert("L"), float).mean(), np.asarray(original.convert("L"), float).mean()
        assert ink[0] == pytest.approx(ink[1], abs=3)  # the same drawing, smaller: as much ink on average


def test_the_probability_bars_say_every_digits_probability_and_mark_the_reading():
    probs = np.full(10, 0.01)
    probs[3] = 0.91
    svg = plots.probability_bars(probs, chosen=3)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "0: 1%, 1: 1%, 2: 1%, 3: 91%" in svg  # what a screen reader hears
    assert svg.count("<rect") == 10 and svg.count('fill="#ff4b4b"') == 1  # one bar per digit, the reading's marked
    assert "<title>3: 91.0%</title>" in svg


def test_a_reading_figure_shows_the_bars_beside_the_digit_as_the_model_sees_it(mnist_sample):
    digit = mnist_sample.x_test[0] / 255.0
    probs = np.full(10, 0.01)
    probs[7] = 0.91
    figure = plots.reading_figure(probs, 7, digit)
    assert plots.probability_bars(probs, 7) in figure
    uri = re.search(r'<img src="(data:image/png;base64,[^"]+)" alt="What the model sees', figure)[1]
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    np.testing.assert_array_equal(picture, plots.enlarge(digit))  # every pixel the model reads, 8x8 each
    assert "<figcaption" in figure and plots.SEEN in figure
