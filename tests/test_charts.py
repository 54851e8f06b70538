"""The Diagnostics and Drawings charts carry exactly the numbers of the reports they draw."""

import numpy as np
import pandas as pd

from mnist_app.models import calibration
from mnist_app.reports import charts

HISTORY = {
    "loss": [1.0, 0.5, 0.4],
    "accuracy": [0.8, 0.9, 0.92],
    "val_loss": [0.9, 0.6, 0.5],
    "val_accuracy": [0.85, 0.88, 0.9],
}


def rows(chart) -> pd.DataFrame:
    """Every data row the chart's layers draw, as one table (the browser gets these numbers)."""
    spec = chart.to_dict()
    return pd.DataFrame([row for values in spec["datasets"].values() for row in values])


def test_training_curves_draw_train_and_validation_per_whole_epoch():
    drawn = rows(charts.training_curves(HISTORY, "loss"))
    per_split = drawn.groupby("split")["loss"].apply(list).to_dict()
    assert per_split == {"train": [1.0, 0.5, 0.4], "validation": [0.9, 0.6, 0.5]}
    assert sorted(set(drawn["epoch"])) == [1, 2, 3]
    assert charts.training_curves(HISTORY, "accuracy").to_dict()["encoding"]["x"]["axis"]["format"] == "d"


def test_the_confusion_matrix_writes_every_count_in_its_cell():
    matrix = np.arange(100).reshape(10, 10)
    drawn = rows(charts.confusion_matrix(matrix, "test set")).drop_duplicates()
    assert len(drawn) == 100
    cell = drawn[(drawn["true digit"] == 3) & (drawn["read as"] == 7)]
    assert cell["digits"].tolist() == [37]
    layers = charts.confusion_matrix(matrix, "t").to_dict()["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["rect", "text"]


def test_the_confusion_colours_top_out_at_twice_the_largest_error():
    matrix = np.diag([500] * 10)
    matrix[4, 9] = 6
    spec = charts.confusion_matrix(matrix, "t").to_dict()
    assert spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == [0, 12]


def test_the_reliability_diagram_draws_the_diagonal_and_each_curves_filled_bins():
    probs = np.tile(np.eye(10)[[3]] * 0.8 + 0.02, (4, 1))
    fit = calibration.reliability(probs, np.array([3, 3, 3, 5]))
    spec = charts.reliability_diagram({"before": fit, "after": fit}).to_dict()
    drawn = rows(charts.reliability_diagram({"before": fit, "after": fit}))
    diagonal = drawn[drawn["curve"].isna()] if "curve" in drawn else drawn
    assert diagonal[["confidence", "accuracy"]].values.tolist() == [[0.0, 0.0], [1.0, 1.0]]
    curves = drawn.dropna(subset=["curve"])
    assert len(curves) == 2 and set(curves["accuracy"]) == {0.75}  # one filled bin each: 3 of 4 right at 0.82
    assert curves["curve"].str.startswith(("before (ECE", "after (ECE")).all()
    assert len(spec["layer"]) == 2


def test_comparisons_never_put_two_kinds_of_loss_on_one_axis():
    losses = {"a": "categorical_crossentropy", "b": "binary_crossentropy", "c": "categorical_crossentropy"}
    curves = charts.comparison_curves(dict.fromkeys(losses, HISTORY), losses)
    titles = [c.to_dict()["title"] for c in curves]
    assert titles == ["Validation accuracy", "Binary crossentropy", "Categorical crossentropy"]
    assert set(rows(curves[0])["model"]) == {"a", "b", "c"}
    assert set(curves[1].data["model"]) == {"b"} and set(curves[2].data["model"]) == {"a", "c"}


def test_the_mistakes_sheet_shows_each_digit_in_whole_pixels_with_its_caption_underneath():
    images = np.zeros((40, 28, 28), np.uint8)
    images[:, 5, 6] = 255  # one lit pixel in every digit
    gallery = {
        "images": images,
        "true": np.arange(40) % 10,
        "predicted": (np.arange(40) + 1) % 10,
        "confidence": np.full(40, 0.9, np.float32),
    }
    sheet = charts.mistakes_sheet(gallery, limit=32, columns=8, zoom=3)
    side, cell_w, cell_h = 84, 84 + 8, 84 + 18 + 8
    assert sheet.dtype == np.uint8 and sheet.shape == (4 * cell_h, 8 * cell_w)  # 32 of the 40, in 4 rows of 8
    for i in range(32):
        top, left = (i // 8) * cell_h, (i % 8) * cell_w
        digit = sheet[top : top + side, left : left + side]
        assert digit[15:18, 18:21].min() == 255 and (digit > 0).sum() == 9  # the pixel, 3x3 and nothing else
        assert sheet[top + side : top + side + 18, left : left + side].min() < 128  # a caption was written
    assert charts.mistake_captions(gallery, 2) == ["0→1 (90%)", "1→2 (90%)"]


def test_eleven_compared_models_get_eleven_colours_each_kept_whichever_are_shown():
    names = [f"model {i}" for i in range(11)]
    losses = dict.fromkeys(names, "categorical_crossentropy")
    every = charts.comparison_curves(dict.fromkeys(names, HISTORY), losses)[0].to_dict()["encoding"]["color"]["scale"]
    assert every["domain"] == names and len(set(every["range"])) == 11
    picked = charts.comparison_curves(dict.fromkeys(names, HISTORY), losses, ["model 9", "model 2"])
    scale = picked[0].to_dict()["encoding"]["color"]["scale"]
    assert scale == {"domain": ["model 9", "model 2"], "range": [every["range"][9], every["range"][2]]}
    assert set(rows(picked[0])["model"]) == {"model 9", "model 2"}


def test_a_fine_tunes_curves_mark_where_it_starts_with_a_rule_before_its_first_epoch():
    chart = charts.training_curves(HISTORY, "loss", {3: "fine-tune →"})
    lines, rule, name = chart.to_dict()["layer"]
    assert (rule["mark"]["type"], name["mark"]["type"]) == ("rule", "text")
    marks = rows(chart).dropna(subset=["stage"])
    assert marks[["epoch", "stage"]].drop_duplicates().values.tolist() == [[2.5, "fine-tune →"]]
    assert len(rows(chart).dropna(subset=["split"])) == 6  # every epoch of both splits still drawn
