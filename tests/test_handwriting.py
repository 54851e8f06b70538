"""Writing styles MNIST lacks (flagged 1s, crossed 7s, curled 9s), drawn onto real MNIST digits."""

import itertools

import numpy as np
import pytest

from mnist_app.data import handwriting as styles
from mnist_app.preprocess import centre_of_mass


def first(digits, label: int, count: int = 20) -> np.ndarray:
    x, y = digits
    return x[y == label][:count]


def ink_extent(image: np.ndarray) -> tuple[int, int, int, int]:
    """top, bottom, left, right of the ink."""
    rows, cols = (np.flatnonzero((image > 0.3).any(axis=axis)) for axis in (1, 0))
    return rows[0], rows[-1], cols[0], cols[-1]


def test_a_ones_flag_starts_at_its_top_and_runs_down_to_the_left(digits):
    rng = np.random.default_rng(0)
    for one in first(digits, 1):
        (flag, *foot), width = styles.flag_strokes(one, rng)
        top, bottom, left, right = ink_extent(one)
        row0, col0, row1, col1 = flag
        assert row0 == top and left <= col0 <= right
        assert row1 > row0 and col1 < col0
        assert 0.25 <= np.hypot(row1 - row0, col1 - col0) / (bottom - top + 1) <= 0.7  # up to a long flag
        assert 1.0 <= width <= 5.0
        for row0, col0, row1, col1 in foot:  # a level foot under the base
            assert row0 == row1 == bottom and col0 < col1


def test_a_sevens_bar_crosses_its_stem_about_halfway_down(digits):
    rng = np.random.default_rng(0)
    for seven in first(digits, 7):
        segments, _ = styles.crossbar_strokes(seven, rng)
        top, bottom, _, _ = ink_extent(seven)
        for row0, col0, row1, col1 in segments:
            row = round((row0 + row1) / 2)
            stem = np.flatnonzero(seven[row] > 0.3).mean()
            assert col0 < stem < col1
            assert abs(row1 - row0) < 0.2 * (col1 - col0)  # nearly level
            assert top + 0.4 * (bottom - top) <= row <= top + 0.7 * (bottom - top)


def test_a_nines_tail_goes_on_down_from_its_foot_then_curls_to_the_left(digits):
    rng = np.random.default_rng(0)
    for nine in first(digits, 9):
        segments, _ = styles.hook_strokes(nine, rng)
        _, bottom, left, right = ink_extent(nine)
        rows = np.array([segments[0][0]] + [s[2] for s in segments])
        cols = np.array([segments[0][1]] + [s[3] for s in segments])
        assert all(a[2:] == b[:2] for a, b in itertools.pairwise(segments))  # one connected stroke
        assert abs(rows[0] - bottom) <= 1 and left <= cols[0] <= right  # from the foot of the tail
        assert np.all(np.diff(cols) < 0)  # always moving left
        steps = np.diff(rows), np.diff(cols)
        assert steps[0][0] > abs(steps[1][0])  # it sets off downwards
        assert steps[0][-1] < abs(steps[1][-1])  # and ends heading left, or back up
        assert np.all(rows >= rows[0])  # below the foot


def test_drawn_strokes_join_the_digit_which_is_refitted_as_mnist_was():
    bar = np.zeros((28, 28), dtype=np.float32)
    bar[4:24, 13:15] = 1.0  # a plain upright 1
    crossed = styles.draw_strokes(bar, [(14, 6, 14, 21)], width=2.0)
    top, bottom, left, right = ink_extent(crossed)
    assert crossed.max() == pytest.approx(1.0)
    assert max(bottom - top, right - left) + 1 == 20  # fitted to the 20x20 box
    assert np.abs(np.array(centre_of_mass(crossed)) - 14.0).max() <= 0.5
    middle = crossed[(top + bottom) // 2 - 1 : (top + bottom) // 2 + 2]
    assert (middle > 0.3).any(axis=0).sum() >= 14  # the bar runs across the digit


def test_a_flag_off_the_edge_is_kept_whole():
    corner = np.zeros((28, 28), dtype=np.float32)
    corner[0:20, 1:3] = 1.0
    flagged = styles.draw_strokes(corner, [(0, 2, 6, -8)], width=2.0)  # reaches past the left edge
    top, bottom, left, right = ink_extent(flagged)
    assert right - left + 1 >= 8  # the flag's 10 columns survived, scaled into the box
    assert left > 0 and right < 27


def test_restyle_changes_only_ones_sevens_and_nines(digits):
    x, y = digits
    untouched = styles.restyle(x, y, np.random.default_rng(0), probability=0.0)
    np.testing.assert_array_equal(untouched, x)
    every = styles.restyle(x, y, np.random.default_rng(0), probability=1.0)
    changed = np.any(every != x, axis=(1, 2))
    assert set(np.unique(y[changed])) == {1, 7, 9}
    assert changed[np.isin(y, (1, 7, 9))].mean() > 0.95


def test_a_blank_image_is_left_alone():
    blank = np.zeros((3, 28, 28), dtype=np.float32)
    out = styles.restyle(blank, np.array([1, 7, 9]), np.random.default_rng(0), probability=1.0)
    np.testing.assert_array_equal(out, blank)
