"""The prototypes' blend: a vote of the person's drawings near them, nothing far from them, saved without pickle."""

import numpy as np
import pytest

from mnist_app.models.prototypes import FILE, Blend, Prototyped, blended, distances, features, spacing


class Uniform:
    """A stand-in network: every digit equally likely; saves a marker file."""

    def predict_proba(self, images):
        return np.full((len(images), 10), 0.1)

    def save(self, path):
        np.savez(path, marker=np.ones(1))


@pytest.fixture(scope="module")
def drawings(digits):
    """20 digits kept as prototypes (2 of each) and 200 others."""
    x, y = digits
    kept = np.concatenate([np.flatnonzero(y == d)[:2] for d in range(10)])
    others = np.setdiff1d(np.arange(len(y)), kept)[:200]
    return x[kept], y[kept].astype(np.int64), x[others]


@pytest.mark.parametrize("blur", [0.0, 1.0])
def test_features_are_rows_of_length_one(drawings, blur):
    f = features(drawings[0], blur)
    assert f.shape == (20, 784)
    np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0, atol=1e-5)


def test_far_from_every_prototype_the_probabilities_are_unchanged(drawings):
    kept, labels, others = drawings
    blend = Blend(k=1, weight=0.9, reach=1.0, blur=0.0)
    protos, feats = features(kept, 0.0), features(others, 0.0)
    probs = np.random.default_rng(0).dirichlet(np.ones(10), size=len(others))
    far = distances(feats, protos).min(axis=1) >= blend.reach * spacing(protos)
    assert far.sum() > 30  # not a vacuous test: some digits lie beyond the reach
    out = blended(probs, feats, protos, labels, blend)
    np.testing.assert_array_equal(out[far], probs[far])
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


def test_on_a_prototype_its_own_label_gets_the_weight(drawings):
    kept, labels, _ = drawings
    network = Prototyped(Uniform(), kept, labels, Blend(k=1, weight=0.9, reach=1.0, blur=1.0))
    probs = network.predict_proba(kept)
    np.testing.assert_allclose(probs[np.arange(20), labels], 0.1 * 0.1 + 0.9)


def test_a_prototyped_network_saves_its_drawings_beside_its_weights_without_pickle(drawings, tmp_path):
    kept, labels, others = drawings
    network = Prototyped(Uniform(), kept, labels, Blend(k=3, weight=0.5, reach=1.5, blur=1.0))
    network.save(tmp_path / "model.npz")
    assert (tmp_path / "model.npz").is_file()
    again = Prototyped.load(Uniform(), tmp_path / FILE)  # np.load(allow_pickle=False) inside
    assert again.blend == network.blend
    np.testing.assert_array_equal(again.predict_proba(others), network.predict_proba(others))
