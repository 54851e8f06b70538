"""Classification metrics written by hand in NumPy, as the first source project computes them."""

from __future__ import annotations

import numpy as np

N_CLASSES = 10


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of labels predicted right."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """(n_classes, n_classes) int64 counts: row = true label, column = predicted label."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator, dtype=np.float64), where=denominator > 0)


def per_class_scores(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support per class from a confusion matrix.

    precision_k = TP_k / predicted_k, recall_k = TP_k / true_k, F1 = 2PR / (P + R).
    """
    true_positives = np.diag(matrix).astype(np.float64)
    precision = _safe_divide(true_positives, matrix.sum(axis=0).astype(np.float64))
    recall = _safe_divide(true_positives, matrix.sum(axis=1).astype(np.float64))
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": matrix.sum(axis=1)}


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = N_CLASSES) -> dict:
    """Accuracy, per-class scores, macro and weighted averages and the confusion matrix, JSON-ready."""
    matrix = confusion_matrix(y_true, y_pred, n_classes)
    scores = per_class_scores(matrix)
    support = scores["support"].astype(np.float64)
    names = ("precision", "recall", "f1")
    return {
        "accuracy": accuracy(y_true, y_pred),
        "per_class": {
            str(k): {**{m: float(scores[m][k]) for m in names}, "support": int(support[k])} for k in range(n_classes)
        },
        "macro_avg": {m: float(scores[m].mean()) for m in names},
        "weighted_avg": {m: float(np.average(scores[m], weights=support)) for m in names},
        "confusion_matrix": matrix.tolist(),
    }


def top_confusions(matrix: np.ndarray, k: int = 5) -> list[tuple[int, int, int]]:
    """The k largest off-diagonal cells as (true, predicted, count), largest first."""
    matrix = np.asarray(matrix)
    off = [(int(t), int(p), int(matrix[t, p])) for t in range(len(matrix)) for p in range(len(matrix)) if t != p]
    return [c for c in sorted(off, key=lambda c: -c[2]) if c[2] > 0][:k]


def per_writer(probs: np.ndarray, labels: np.ndarray, writers: np.ndarray) -> dict:
    """Accuracy per writer (keys are the writers as text, as JSON keeps them), and the worst writer's."""
    right = probs.argmax(axis=1) == labels
    by_writer = {str(w): float(right[writers == w].mean()) for w in np.unique(writers)}
    worst = min(by_writer, key=by_writer.get)
    who = int(worst) if worst.isdigit() else worst  # a pen writer's id, or a saved drawing's visit
    return {"per_writer": by_writer, "worst_writer": {"writer": who, "accuracy": by_writer[worst]}}
