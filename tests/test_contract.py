"""The model contract's shared pieces: chunked prediction, the history's keys, the input checks."""

import numpy as np
import pytest

from mnist_app.contract import HISTORY_KEYS, empty_history, in_chunks, validate_images


def test_chunked_prediction_gives_the_same_rows_in_order_whatever_the_chunk_size():
    images = np.random.default_rng(0).uniform(size=(25, 28, 28)).astype(np.float32)
    calls = []

    def predict(batch):
        calls.append(len(batch))
        return batch.reshape(len(batch), -1)[:, :10]

    np.testing.assert_array_equal(in_chunks(predict, images, size=10), images.reshape(25, -1)[:, :10])
    assert calls == [10, 10, 5]


def test_an_empty_history_has_every_key_and_no_epochs():
    assert empty_history() == {key: [] for key in HISTORY_KEYS}
    assert HISTORY_KEYS == ("loss", "accuracy", "val_loss", "val_accuracy")


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((28, 28)), "shape"),
        (np.full((1, 28, 28), np.nan), "NaN"),
        (np.full((1, 28, 28), 255.0), "divide uint8 by 255"),
        (np.array([["a"] * 28] * 28, dtype=object)[None], "numbers"),
    ],
)
def test_bad_images_are_a_value_error_that_says_what_is_wrong(bad, message):
    with pytest.raises(ValueError, match=message):
        validate_images(bad)


def test_good_images_come_back_as_float32():
    assert validate_images(np.zeros((2, 28, 28), np.float64)).dtype == np.float32
