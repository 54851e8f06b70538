import numpy as np
import pytest

from mnist_app.models import calibration


def synthetic(temperature: float, n: int = 20000, seed: int = 0):
    """Labels drawn from softmax(z); a model that reports softmax(z / temperature) instead."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, (n, 10))
    truth = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = (truth.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    reported = np.exp(logits / temperature)
    return reported / reported.sum(axis=1, keepdims=True), labels


@pytest.mark.parametrize("true_temperature", [0.5, 2.0])
def test_fitting_recovers_a_known_temperature(true_temperature):
    probs, labels = synthetic(1 / true_temperature)  # over- (or under-) confident by this factor
    assert calibration.fit_temperature(probs, labels) == pytest.approx(true_temperature, rel=0.05)


def test_fitting_lowers_the_calibration_error_of_an_overconfident_model():
    probs, labels = synthetic(0.4)
    fit = calibration.fit(probs, labels, target=0.99, fitted_on="synthetic")
    assert fit.temperature > 2 and fit.ece_after < fit.ece_before / 3


def test_temperature_never_changes_the_winning_digit_and_one_changes_nothing():
    probs, _ = synthetic(1.0, n=200)
    np.testing.assert_array_equal(calibration.tempered(probs, 3.0).argmax(1), probs.argmax(1))
    np.testing.assert_allclose(calibration.tempered(probs, 3.0).sum(axis=1), 1.0)
    assert calibration.tempered(probs, 1.0) is probs


def test_expected_calibration_error_matches_a_hand_computed_case():
    # two bins used of ten: (0.9, 1.0] holds 0.95 right, 0.95 right, 0.95 wrong -> |2/3 - 0.95| * 3/5
    #                       (0.5, 0.6] holds 0.55 right, 0.55 wrong           -> |1/2 - 0.55| * 2/5
    probs = np.zeros((5, 10))
    probs[:3, 0], probs[:3, 1] = 0.95, 0.05
    probs[3:, 0], probs[3:, 1] = 0.55, 0.45
    labels = np.array([0, 0, 1, 0, 1])
    expected = abs(2 / 3 - 0.95) * 3 / 5 + abs(1 / 2 - 0.55) * 2 / 5
    assert calibration.expected_calibration_error(probs, labels, bins=10) == pytest.approx(expected)
    curve = calibration.reliability(probs, labels, bins=10)
    assert curve["count"][9] == 3 and curve["accuracy"][9] == pytest.approx(2 / 3) and curve["count"][0] == 0
    assert curve["accuracy"][0] is None


def test_the_threshold_is_the_lowest_that_keeps_sure_readings_right_often_enough():
    top = np.array([0.99, 0.98, 0.97, 0.9, 0.8, 0.7, 0.6])
    right = np.array([True, True, True, False, True, True, False])
    probs = np.zeros((7, 10))
    probs[:, 3], probs[:, 4] = top, 1 - top
    labels = np.where(right, 3, 4)
    assert calibration.threshold_for(probs, labels, target=1.0) == pytest.approx(0.97)
    assert calibration.threshold_for(probs, labels, target=0.8) == pytest.approx(0.7)  # 5 of 6 right
    summary = calibration.sure_summary(probs, labels, 0.7)
    assert summary["sure_accuracy"] == pytest.approx(5 / 6) and summary["flagged"] == pytest.approx(1 / 7)


def test_the_threshold_never_goes_under_an_even_chance():
    probs = np.full((4, 10), 0.7 / 9)
    probs[:, 2] = 0.3  # right every time, but never more than 30% sure
    assert calibration.threshold_for(probs, np.full(4, 2), target=0.99) == calibration.FLOOR


def test_a_calibration_round_trips_and_a_missing_one_is_the_identity(tmp_path):
    fit = calibration.Calibration(temperature=1.7, unsure_below=0.83, fitted_on="x", ece_before=0.05, ece_after=0.01)
    calibration.save(fit, tmp_path)
    assert calibration.load(tmp_path) == fit
    assert calibration.load(tmp_path / "elsewhere") == calibration.Calibration()


@pytest.mark.parametrize("text", ["not json", '{"format_version": 1, "temperature": -2}', '{"temperature": 1}'])
def test_a_broken_calibration_file_raises(tmp_path, text):
    (tmp_path / calibration.FILE).write_text(text)
    with pytest.raises(ValueError):
        calibration.load(tmp_path)
