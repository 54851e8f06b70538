"""The Diagnostics figures draw what they are given (matplotlib Figures, no pyplot state)."""

import numpy as np
from matplotlib.figure import Figure

from mnist_app import plots


def test_training_curves_draw_train_and_validation_for_loss_and_accuracy():
    history = {"loss": [1.0, 0.5, 0.4], "accuracy": [0.8, 0.9, 0.92], "val_loss": [0.9, 0.6, 0.5]}
    history["val_accuracy"] = [0.85, 0.88, 0.9]
    fig = plots.training_curves(history)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert all(len(ax.lines) == 2 and len(ax.lines[0].get_xdata()) == 3 for ax in fig.axes)


def test_the_confusion_heatmap_writes_every_count():
    matrix = np.arange(100).reshape(10, 10)
    texts = [t.get_text() for t in plots.confusion_heatmap(matrix).axes[0].texts]
    assert len(texts) == 100 and "99" in texts


def test_the_mistakes_grid_titles_each_digit_true_then_predicted():
    gallery = {
        "images": np.zeros((3, 28, 28), np.uint8),
        "true": np.array([4, 7, 1]),
        "predicted": np.array([9, 1, 7]),
        "confidence": np.array([0.9, 0.8, 0.7], np.float32),
    }
    titles = [text.get_text() for text in plots.misclassified_grid(gallery).axes[0].texts]
    assert titles == ["4→9 (90%)", "7→1 (80%)", "1→7 (70%)"]


def test_an_enlarged_digit_keeps_its_pixels_and_shows_a_grid():
    digit = np.zeros((28, 28), np.float32)
    digit[10, 12] = 1.0
    big = plots.enlarge(digit, factor=8)
    assert big.shape == (224, 224) and big.dtype == np.uint8
    assert big[10 * 8 + 4, 12 * 8 + 4] == 255 and big[4, 4] == 0 and big[0, 4] > 0
