"""A person's taught drawings kept beside their taught model as prototypes: where a drawing is close to one of them,
a vote of the nearest ones is blended into the model's probabilities; far from all of them (everyone else's
handwriting) the model reads exactly as it did, so this part of teaching forgets nothing by construction.

    p = (1 - w) * p_model + w * p_vote,   w = weight * max(0, 1 - d / (reach * spacing))

d is the distance to the nearest prototype, in blurred-pixel space (unit-length rows, so 0 <= d <= 2), and
`spacing` the prototypes' own typical distance to their nearest neighbour: the reach scales with how varied this
person's drawings are. The blend (Blend) was chosen on the tuning twins, writers 16-20 (docs/experiments.md,
Round 9). Saved as prototypes.npz beside the weights: arrays only, loaded without pickle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mnist_app.contract import Network

FILE = "prototypes.npz"


@dataclass(frozen=True)
class Blend:
    """How the nearest taught drawings vote: `k` of them, with at most `weight` of the say (at distance 0), fading
    to none at `reach` times the prototypes' spacing; drawings blurred by `blur` pixels before comparing."""

    k: int = 1
    weight: float = 0.9
    reach: float = 1.0
    blur: float = 0.0


def features(images: np.ndarray, blur: float) -> np.ndarray:
    """(n, 28, 28) float in [0, 1] -> (n, 784) float64 rows of length 1 (blank rows stay 0), blurred by `blur`
    pixels (0: not at all); float64, so that a drawing lies at distance 0 from itself."""
    from scipy.ndimage import gaussian_filter  # here, not at the top: the Draw page imports this module (0.3 s)

    x = gaussian_filter(np.asarray(images, np.float64), sigma=(0, blur, blur)) if blur > 0 else images
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, f) and (m, f) unit rows -> (n, m) Euclidean distances."""
    return np.sqrt(np.maximum(2.0 - 2.0 * a @ b.T, 0.0))


def spacing(prototypes: np.ndarray) -> float:
    """The median distance from each prototype (unit rows) to its nearest other one; 1 for a single prototype."""
    if len(prototypes) < 2:
        return 1.0
    d = distances(prototypes, prototypes)
    np.fill_diagonal(d, np.inf)
    return float(np.median(d.min(axis=1)))


def blended(
    probs: np.ndarray, feats: np.ndarray, prototypes: np.ndarray, labels: np.ndarray, blend: Blend
) -> np.ndarray:
    """(n, 10) model probabilities with the vote of the k nearest prototypes blended in where they are near."""
    d = distances(feats, prototypes)
    k = min(blend.k, len(prototypes))
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    vote = np.eye(10)[labels[nearest]].mean(axis=1)
    w = blend.weight * np.clip(1.0 - d.min(axis=1) / (blend.reach * spacing(prototypes)), 0.0, 1.0)
    return (1.0 - w)[:, None] * probs + w[:, None] * vote


class Prototyped:
    """A network with a person's drawings beside it: the same contract (predict_proba, save)."""

    def __init__(self, network: Network, images: np.ndarray, labels: np.ndarray, blend: Blend):
        self.network, self.blend = network, blend
        self.images, self.labels = np.asarray(images, np.float32), np.asarray(labels, np.int64)
        self._features = features(self.images, blend.blur)

    def __getattr__(self, name: str):  # its members and explainers stay reachable (an explanation is the network's)
        if name == "network":
            raise AttributeError(name)
        return getattr(self.network, name)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28) float32 in [0, 1] -> (n, 10): the network's probabilities, blended near the prototypes."""
        probs = np.asarray(self.network.predict_proba(images), dtype=np.float64)
        return blended(probs, features(images, self.blend.blur), self._features, self.labels, self.blend)

    def save(self, path: str | Path) -> None:
        """The network's weights at `path`, the prototypes and the blend beside them (FILE)."""
        self.network.save(path)
        settings = {key: np.asarray(value) for key, value in asdict(self.blend).items()}
        with open(Path(path).parent / FILE, "wb") as handle:
            np.savez_compressed(handle, images=self.images, labels=self.labels, **settings)

    @classmethod
    def load(cls, network: Network, path: Path) -> Prototyped:
        """The network with the prototypes and blend saved in `path` (FILE)."""
        with np.load(path, allow_pickle=False) as npz:
            blend = Blend(int(npz["k"]), float(npz["weight"]), float(npz["reach"]), float(npz["blur"]))
            return cls(network, npz["images"], npz["labels"], blend)
