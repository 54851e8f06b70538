"""The Draw page's pictures show what they are given."""

import numpy as np

from mnist_app import plots


def test_an_enlarged_digit_keeps_its_pixels_and_shows_a_grid():
    digit = np.zeros((28, 28), np.float32)
    digit[10, 12] = 1.0
    big = plots.enlarge(digit, factor=8)
    assert big.shape == (224, 224) and big.dtype == np.uint8
    assert big[10 * 8 + 4, 12 * 8 + 4] == 255 and big[4, 4] == 0 and big[0, 4] > 0
