"""report.png: the report as one picture, written beside report.json and readable by any image reader."""

import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from mnist_app import reports
from mnist_app.contract import empty_history
from mnist_app.models.kinds import preset
from mnist_app.reports import FIGURE
from mnist_app.reports import figure as report_figure


@pytest.fixture(scope="module")
def report(mnist_sample) -> dict:
    """The report of a pretend model that reads the sample's test digits right except every tenth."""
    y = mnist_sample.y_test.astype(np.int64)
    probs = np.eye(10)[np.where(np.arange(len(y)) % 10 == 0, (y + 1) % 10, y)]
    return reports.build_report("numpy-mlp", preset("numpy-mlp"), y, probs, {"train": "MNIST", "n_test": len(y)}, 1.0)


HISTORY = {"loss": [1.0, 0.5], "accuracy": [0.8, 0.9], "val_loss": [0.9, 0.6], "val_accuracy": [0.85, 0.88]}
PIXELS = tuple(round(inches * report_figure.DPI) for inches in report_figure.SIZE)


def test_the_figure_is_written_as_a_png_any_reader_opens(tmp_path, report):
    path = report_figure.write(tmp_path / FIGURE, HISTORY, report)
    assert path == tmp_path / "report.png"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == PIXELS
    assert 10_000 < path.stat().st_size < 300_000  # a picture, and small enough to commit for every model
    assert [p.name for p in tmp_path.iterdir()] == ["report.png"]  # no temporary file left behind


def test_a_model_with_no_epochs_of_its_own_still_gets_a_figure_that_says_so(tmp_path, report):
    figure = report_figure.report_figure(empty_history(), report)
    assert any("No epochs of its own" in text.get_text() for ax in figure.axes for text in ax.texts)
    with Image.open(report_figure.write(tmp_path / FIGURE, empty_history(), report)) as image:
        assert image.size == PIXELS


def test_the_confusion_heatmap_writes_every_count_in_its_cell(report):
    ax = Figure().subplots()
    matrix = report["test"]["confusion_matrix"]
    report_figure.confusion_heatmap(ax, matrix)
    assert [text.get_text() for text in ax.texts] == [str(count) for row in matrix for count in row]


def test_the_title_names_the_model_and_its_test_accuracy(report):
    title = report_figure.report_figure(HISTORY, report).get_suptitle()
    assert title.startswith("numpy-mlp: 90.00% of 1,000 MNIST test digits")


@pytest.fixture
def written(tmp_path, report, mnist_sample):
    """A model folder's reports as a Train page run leaves them: no report.png."""
    gallery = reports.misclassified(mnist_sample.x_test, mnist_sample.y_test, np.eye(10)[mnist_sample.y_test])
    reports.write_reports(tmp_path, HISTORY, report, gallery)
    return tmp_path


def test_the_report_files_leave_the_picture_to_whoever_asks_for_it(written):
    assert not (written / reports.FIGURE).exists()


def test_a_figure_is_drawn_from_the_folders_reports_without_retraining(written):
    assert reports.write_figure(written) == written / reports.FIGURE
    with Image.open(written / reports.FIGURE) as image:
        assert image.size == PIXELS


def test_a_folder_without_its_picture_is_drawn_for_download_and_one_with_it_gives_its_own(written):
    drawn = reports.report_png(written)
    with Image.open(io.BytesIO(drawn)) as image:
        assert image.format == "PNG" and image.size == PIXELS
    assert not (written / reports.FIGURE).exists()  # drawn, not written: the folder is as it was
    (written / reports.FIGURE).write_bytes(b"the kept picture")
    assert reports.report_png(written) == b"the kept picture"


def test_a_folder_without_reports_cannot_be_redrawn_and_says_which_file_is_missing(tmp_path):
    with pytest.raises(reports.ReportMissingError, match="history.json"):
        reports.write_figure(tmp_path)
