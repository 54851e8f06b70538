import numpy as np
import pytest
from sklearn import metrics as sk

from mnist_app.reports.metrics import accuracy, classification_report, confusion_matrix, per_writer, top_confusions


@pytest.fixture(params=[0, 1, 2])
def labels(request):
    rng = np.random.default_rng(request.param)
    y_true = rng.integers(0, 10, 500)
    y_pred = np.where(rng.uniform(size=500) < 0.7, y_true, rng.integers(0, 10, 500))
    return y_true, y_pred


def test_accuracy_matches_scikit_learn(labels):
    assert accuracy(*labels) == pytest.approx(sk.accuracy_score(*labels))


def test_confusion_matrix_matches_scikit_learn(labels):
    np.testing.assert_array_equal(confusion_matrix(*labels), sk.confusion_matrix(*labels, labels=range(10)))


def test_per_class_and_averages_match_scikit_learn(labels):
    ours = classification_report(*labels)
    theirs = sk.classification_report(*labels, labels=range(10), output_dict=True, zero_division=0)
    for k in range(10):
        for ours_key, their_key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert ours["per_class"][str(k)][ours_key] == pytest.approx(theirs[str(k)][their_key])
        assert ours["per_class"][str(k)]["support"] == theirs[str(k)]["support"]
    for avg in ("macro", "weighted"):
        assert ours[f"{avg}_avg"]["f1"] == pytest.approx(theirs[f"{avg} avg"]["f1-score"])
        assert ours[f"{avg}_avg"]["precision"] == pytest.approx(theirs[f"{avg} avg"]["precision"])


def test_a_class_never_predicted_has_zero_precision_not_nan():
    report = classification_report(np.array([0, 1, 2]), np.array([0, 0, 0]))
    assert report["per_class"]["1"]["precision"] == 0.0 and report["per_class"]["1"]["f1"] == 0.0


def test_top_confusions_are_the_largest_off_diagonal_cells():
    matrix = np.zeros((10, 10), int)
    matrix[4, 9], matrix[7, 1], matrix[3, 3] = 12, 5, 99
    assert top_confusions(matrix, 2) == [(4, 9, 12), (7, 1, 5)]


def test_per_writer_accuracy_names_the_worst_writer():
    probs = np.eye(10)[[1, 2, 3, 0, 5, 6]]  # writer 7 reads 3 of 3 right, writer 21 one of 3
    labels, writers = np.array([1, 2, 3, 4, 9, 6]), np.array([7, 7, 7, 21, 21, 21])
    assert per_writer(probs, labels, writers) == {
        "per_writer": {"7": 1.0, "21": pytest.approx(1 / 3)},
        "worst_writer": {"writer": 21, "accuracy": pytest.approx(1 / 3)},
    }
