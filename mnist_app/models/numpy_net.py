"""A 784 -> hidden ReLU -> 10 softmax network, written from scratch in NumPy.

Shapes: B = batch, D = 784 inputs, H = hidden units, K = 10 classes.
    h = relu(x @ W1 + b1)        (B, H)
    p = softmax(h @ W2 + b2)     (B, K)
    L = -mean(sum(y * log p))    categorical cross-entropy, y one-hot
This module never imports TensorFlow.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

import numpy as np

from mnist_app.artifacts import atomic_path
from mnist_app.contract import (
    HISTORY_KEYS,
    LoadModel,
    TrainingData,
    TrainingListener,
    empty_history,
    in_chunks,
)
from mnist_app.data.augment import epoch_augmenter
from mnist_app.models import numpy_state
from mnist_app.models.numpy_config import NumpyMLPConfig

FORMAT_VERSION = 1
N_INPUTS, N_CLASSES = 784, 10


def init_params(hidden: int, init: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random weights, zero biases; He init keeps ReLU activations' variance stable."""
    scale1, scale2 = (np.sqrt(2.0 / N_INPUTS), np.sqrt(2.0 / hidden)) if init == "he" else (0.01, 0.01)
    return {
        "W1": (rng.standard_normal((N_INPUTS, hidden)) * scale1).astype(np.float32),
        "b1": np.zeros(hidden, dtype=np.float32),
        "W2": (rng.standard_normal((hidden, N_CLASSES)) * scale2).astype(np.float32),
        "b2": np.zeros(N_CLASSES, dtype=np.float32),
    }


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax; subtracting the row max keeps exp() from overflowing."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def forward(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x (B, 784) -> (probabilities (B, 10), hidden activations (B, H) kept for backward)."""
    hidden = np.maximum(x @ params["W1"] + params["b1"], 0.0)
    return softmax(hidden @ params["W2"] + params["b2"]), hidden


def cross_entropy(probs: np.ndarray, onehot: np.ndarray) -> float:
    """Mean categorical cross-entropy; the clip avoids log(0)."""
    return float(-np.mean(np.sum(onehot * np.log(np.clip(probs, 1e-12, 1.0)), axis=1)))


def backward(
    params: dict[str, np.ndarray], x: np.ndarray, hidden: np.ndarray, probs: np.ndarray, onehot: np.ndarray
) -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy.

    dL/dz2 = (p - y) / B  (softmax and cross-entropy together)
    dW2 = h^T dz2,  dh = dz2 W2^T,  dz1 = dh * [z1 > 0],  dW1 = x^T dz1
    """
    dz2 = (probs - onehot) / len(x)
    dz1 = (dz2 @ params["W2"].T) * (hidden > 0)
    return {"W1": x.T @ dz1, "b1": dz1.sum(axis=0), "W2": hidden.T @ dz2, "b2": dz2.sum(axis=0)}


class Optimizer:
    """SGD, SGD with momentum, RMSprop or Adam, written out; state is one buffer (two for Adam) per parameter.

    RMSprop divides by a running root-mean-square of the gradient: v = rho v + (1 - rho) g^2, w -= lr g / sqrt(v).
    """

    def __init__(self, kind: str, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, rho: float = 0.9):
        self.kind, self.beta1, self.beta2, self.eps, self.rho = kind, beta1, beta2, eps, rho
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> None:
        """Update `params` in place."""
        self.t += 1
        for name, grad in grads.items():
            if self.kind == "sgd":
                params[name] -= lr * grad
                continue
            if self.kind == "rmsprop":
                v = self.v.setdefault(name, np.zeros_like(grad))
                v *= self.rho
                v += (1 - self.rho) * grad * grad
                params[name] -= lr * grad / (np.sqrt(v) + self.eps)
                continue
            m = self.m.setdefault(name, np.zeros_like(grad))
            m *= self.beta1
            if self.kind == "momentum":
                m += grad
                params[name] -= lr * m
                continue
            m += (1 - self.beta1) * grad
            v = self.v.setdefault(name, np.zeros_like(grad))
            v *= self.beta2
            v += (1 - self.beta2) * grad * grad
            m_hat, v_hat = m / (1 - self.beta1**self.t), v / (1 - self.beta2**self.t)
            params[name] -= lr * m_hat / (np.sqrt(v_hat) + self.eps)


def learning_rate(config: NumpyMLPConfig, epoch: int) -> float:
    """The epoch's rate: constant, or cosine-decayed from the configured rate towards 0."""
    if config.schedule == "constant":
        return config.learning_rate
    return config.learning_rate * 0.5 * (1 + np.cos(np.pi * epoch / config.epochs))


class NumpyMLP:
    """The trained network behind the shared model contract (`predict_proba`)."""

    def __init__(self, params: dict[str, np.ndarray], config: NumpyMLPConfig):
        self.params, self.config = params, config

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28) float32 in [0, 1] -> (n, 10) probabilities."""
        return forward(self.params, np.asarray(images, dtype=np.float32).reshape(len(images), N_INPUTS))[0]

    def save(self, path: str | Path) -> None:
        """Weights and config in one .npz (no pickle), written atomically."""
        meta = json.dumps({"format_version": FORMAT_VERSION, "config": asdict(self.config)})
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, meta=np.array(meta), **self.params)

    @classmethod
    def load(cls, path: str | Path) -> NumpyMLP:
        """Rebuild from a file written by `save`; ValueError if it is not one."""
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            if meta.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"format version {meta.get('format_version')}, expected {FORMAT_VERSION}")
            params = {name: npz[name].astype(np.float32) for name in ("W1", "b1", "W2", "b2")}
        fields = meta["config"]
        if "momentum" in fields:  # files written before the field was named for what it is
            fields["beta1"] = fields.pop("momentum")
        fields.pop("train_top", None)  # files written while Round 11's knob was there (docs/experiments.md)
        config = NumpyMLPConfig(**fields)
        hidden = config.hidden
        expected = {"W1": (N_INPUTS, hidden), "b1": (hidden,), "W2": (hidden, N_CLASSES), "b2": (N_CLASSES,)}
        if any(params[k].shape != shape for k, shape in expected.items()):
            raise ValueError("weight shapes do not match the stored config")
        return cls(params, config)

    def input_gradient(self, images: np.ndarray, targets: np.ndarray, quantity: str) -> np.ndarray:
        """d(target's logit or log-probability)/d(pixels): (n, 28, 28) float64, by the same backprop as training.

        z = h W2 + b2;  d log p_t / dz = onehot_t - p  (d z_t / dz = onehot_t);  dh = dz W2^T,  dx = (dh * [h > 0]) W1^T
        """
        x = np.asarray(images, dtype=np.float64).reshape(len(images), N_INPUTS)
        W1, b1, W2, b2 = (self.params[k].astype(np.float64) for k in ("W1", "b1", "W2", "b2"))
        hidden = np.maximum(x @ W1 + b1, 0.0)
        dz = np.eye(N_CLASSES)[np.asarray(targets)]
        if quantity == "log_probability":
            dz = dz - softmax(hidden @ W2 + b2)
        return (((dz @ W2.T) * (hidden > 0)) @ W1.T).reshape(len(images), 28, 28)

    def focus(self, image: np.ndarray, target: int, count: int = 4) -> list[tuple[str, np.ndarray, bool]]:
        """What it looks at: the `count` hidden units most active for this drawing, as (title, incoming weights
        (28, 28), signed). A unit's share is its part h_j W2[j, t] of the target's logit z_t - b2_t."""
        x = np.asarray(image, dtype=np.float32).reshape(N_INPUTS)
        hidden = np.maximum(x @ self.params["W1"] + self.params["b1"], 0.0)
        parts = hidden * self.params["W2"][:, target]
        total = float(parts.sum()) or 1.0  # the logit z_t less its bias: the units' shares add up to 100%
        return [
            (
                f"unit {j}: {parts[j] / total:+.0%} of the {target}'s logit",
                self.params["W1"][:, j].reshape(28, 28),
                True,
            )
            for j in np.argsort(-hidden)[:count]
        ]


def evaluate(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(loss, accuracy) over a whole set, in chunks to bound memory."""
    probs = in_chunks(lambda batch: forward(params, batch)[0], x, 4096)
    return cross_entropy(probs, np.eye(N_CLASSES, dtype=np.float32)[y]), float(np.mean(probs.argmax(1) == y))


def train(
    config: NumpyMLPConfig,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    epoch_images: Callable[[int], np.ndarray] | None = None,
    log: Callable[[str], None] = print,
    listener: TrainingListener | None = None,
    initial: dict[str, np.ndarray] | None = None,
    state: Path | None = None,
) -> tuple[NumpyMLP, dict[str, list[float]]]:
    """Mini-batch training on float32 images (n, 28, 28) in [0, 1]; returns the model and its history.

    `epoch_images`, when given, supplies each epoch's (distorted) training images, in the order
    of `y_train`. `listener` hears every batch and epoch and may stop the run (contract.TrainingListener).
    `initial`, a trained network's parameters, is where training starts (fine-tuning). Deterministic for a seed.
    `state`, a folder: each finished epoch's trainer state is saved there, and training goes on from the one it
    holds, ending exactly as a run that never stopped would (numpy_state.py).
    With `config.early_stopping`, training ends after that many epochs without a lower validation loss, and
    the best epoch's weights are returned, as Keras' EarlyStopping(restore_best_weights=True) does.
    """
    listener = listener or TrainingListener()
    rng = np.random.default_rng(config.seed)
    params = init_params(config.hidden, config.init, rng)
    if initial is not None:
        if any(initial[k].shape != params[k].shape for k in params):
            raise ValueError("the starting network's shapes differ from the config's; cannot start training from it")
        params = {k: initial[k].astype(np.float32).copy() for k in params}
    optimizer = Optimizer(config.optimizer, beta1=config.beta1)
    x_val_flat = x_val.reshape(len(x_val), N_INPUTS)
    history, kept, best = empty_history(), _copy(params), (np.inf, 0)  # kept: the weights a stop returns
    first = 0
    if saved := numpy_state.load(state):
        first, params, history, kept, best = saved.epochs, saved.params, saved.history, saved.kept, saved.best
        optimizer.m, optimizer.v, optimizer.t, rng.bit_generator.state = saved.m, saved.v, saved.steps, saved.rng
    for epoch in range(first, config.epochs):
        start, lr = time.perf_counter(), learning_rate(config, epoch)
        images = epoch_images(epoch) if epoch_images else x_train
        flat = images.reshape(len(images), N_INPUTS)
        finished = _epoch(params, optimizer, flat, y_train, rng, config, lr, epoch, listener)
        if finished is None:  # stopped mid-epoch: the unfinished epoch is dropped
            break
        epoch_scores = (*finished, *evaluate(params, x_val_flat, y_val))
        for key, value in zip(HISTORY_KEYS, epoch_scores, strict=True):
            history[key].append(value)
        log(
            f"Epoch {epoch + 1}/{config.epochs} - {time.perf_counter() - start:.1f}s - lr {lr:.5f} - "
            f"loss {epoch_scores[0]:.4f} - accuracy {epoch_scores[1]:.4f} - "
            f"val_loss {epoch_scores[2]:.4f} - val_accuracy {epoch_scores[3]:.4f}"
        )
        if not config.early_stopping or epoch_scores[2] < best[0]:
            kept, best = _copy(params), (epoch_scores[2], epoch)
        if state is not None:  # before the listener hears the epoch, so that what it hears is saved
            at = (optimizer.m, optimizer.v, optimizer.t, rng.bit_generator.state, history, kept, best)
            numpy_state.save(state, numpy_state.TrainerState(epoch + 1, params, *at))
        listener.on_epoch(epoch, dict(zip(HISTORY_KEYS, epoch_scores, strict=True)))
        if config.early_stopping and epoch - best[1] >= config.early_stopping:
            log(f"Early stopping: no lower val_loss for {config.early_stopping} epochs; epoch {best[1] + 1} kept")
            break
        if listener.stop_requested():
            break
    return NumpyMLP(kept, config), history


def _epoch(params, optimizer, flat, y_train, rng, config, lr, epoch, listener) -> tuple[float, float] | None:
    """One pass over the training digits, updating `params`: (mean loss, accuracy), or None if stopped mid-way."""
    onehot = np.eye(N_CLASSES, dtype=np.float32)
    loss_sum, hits, seen = 0.0, 0, 0
    batches = np.array_split(rng.permutation(len(flat)), max(1, len(flat) // config.batch_size))
    for done, batch in enumerate(batches, start=1):
        probs, hidden = forward(params, flat[batch])
        grads = backward(params, flat[batch], hidden, probs, onehot[y_train[batch]])
        optimizer.step(params, grads, lr)
        loss_sum += cross_entropy(probs, onehot[y_train[batch]]) * len(batch)
        hits, seen = hits + int(np.sum(probs.argmax(1) == y_train[batch])), seen + len(batch)
        listener.on_batch(epoch, done, len(batches), loss_sum / seen, hits / seen)
        if listener.stop_requested() and done < len(batches):
            return None
    return loss_sum / seen, hits / seen


def _copy(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: value.copy() for name, value in params.items()}


def load_network(path: Path, load_model: LoadModel | None = None) -> NumpyMLP:
    """The kind's loader (kinds.py): a NumPy network needs no other model."""
    return NumpyMLP.load(path)


def train_network(
    config: NumpyMLPConfig,
    data: TrainingData,
    load_model: LoadModel | None = None,
    verbose: int = 1,
    listener: TrainingListener | None = None,
    state: Path | None = None,
) -> tuple[NumpyMLP, dict[str, list[float]]]:
    """The kind's trainer (kinds.py): (network, history) from a TrainingData split, going on from `state`'s last
    finished epoch when that folder holds one (and saving each epoch's there).

    `verbose` as Keras': 0 is silent, 1 draws a per-batch progress bar (in a terminal), 2 prints one line per
    epoch. `listener`, when given, hears the run instead of the bar (contract.TrainingListener).
    """
    listener = listener or (ProgressBar(sys.stdout) if verbose == 1 else None)
    log = print if verbose else (lambda _: None)
    initial = load_model(config.start_from).network.params if config.start_from else None
    with epoch_augmenter(data.x_train, data.y_train, config) as epoch_images:
        split = (data.x_train, data.y_train, data.x_val, data.y_val)
        return train(config, *split, epoch_images, log=log, listener=listener, initial=initial, state=state)


class ProgressBar(TrainingListener):
    """A Keras-style bar, redrawn in place about a hundred times an epoch; the epoch's log line replaces it."""

    def __init__(self, stream: TextIO, width: int = 30):
        self.stream, self.width = stream, width

    def on_batch(self, epoch: int, done: int, batches: int, loss: float, accuracy: float) -> None:
        if done % max(1, batches // 100) and done != batches:
            return
        filled = self.width * done // batches
        self.stream.write(f"\r{done}/{batches} [{'=' * filled}{'.' * (self.width - filled)}] - loss {loss:.4f}")
        self.stream.write("\r" if done == batches else "")
        self.stream.flush()
