"""Training-time distortions, on real MNIST digits."""

import numpy as np
import pytest

from mnist_app.data.augment import AugmentConfig, EpochAugmenter, augment, erase_ink
from mnist_app.preprocess import INK_THRESHOLD, centre_of_mass


def test_augment_is_deterministic_for_a_seed_and_keeps_mnist_format(digits):
    x, y = digits
    config = AugmentConfig(restyle=0.5)
    a = augment(x, np.random.default_rng(7), config, y)
    b = augment(x, np.random.default_rng(7), config, y)
    c = augment(x, np.random.default_rng(8), config, y)
    assert a.dtype == np.float32 and a.shape == x.shape
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() >= 0.0 and a.max() <= 1.0
    centres = np.array([centre_of_mass(image) for image in a if image.any()])
    assert np.abs(centres - 14.0).max() <= 1.0  # re-centred as the app centres a drawing


def test_restyling_needs_labels(digits):
    with pytest.raises(ValueError, match="labels"):
        augment(digits[0], np.random.default_rng(0), AugmentConfig(restyle=0.5))


def test_epoch_images_are_the_same_whatever_the_worker_count(digits):
    x, y = digits
    config = AugmentConfig(restyle=0.5)
    one_worker, two_workers = (EpochAugmenter(x, 3, config, workers=n, labels=y) for n in (1, 2))
    try:
        for epoch in (0, 1):
            np.testing.assert_array_equal(one_worker(epoch), two_workers(epoch))
    finally:
        one_worker.close()
        two_workers.close()


def test_erasing_ink_blackens_only_ink_and_only_in_the_chosen_share_of_digits(digits):
    images = digits[0]  # 400 real MNIST digits
    erased = erase_ink(images, np.random.default_rng(0), share=0.5, most=0.4)
    ink = images >= INK_THRESHOLD
    changed = erased != images
    assert not (changed & ~ink).any() and (erased[changed] == 0).all()  # only ink, and it goes black
    touched = changed.any(axis=(1, 2))
    assert 0.4 < touched.mean() < 0.6  # about half the digits
    lost = changed.sum(axis=(1, 2)) / ink.sum(axis=(1, 2))
    assert lost.max() <= 0.5 and 0.1 < lost[touched].mean() < 0.3  # up to 40% each, 20% on average
    np.testing.assert_array_equal(erased, erase_ink(images, np.random.default_rng(0), share=0.5))
    np.testing.assert_array_equal(erase_ink(images, np.random.default_rng(0), share=0.0), images)


def test_erasing_ink_refuses_a_share_that_is_not_a_probability(digits):
    with pytest.raises(ValueError, match="probabilities"):
        erase_ink(digits[0][:2], np.random.default_rng(0), share=1.5)
