"""What a trained model's reports say and how they are drawn: the metrics written by hand (metrics.py), the report
files train.py writes and the Diagnostics page reads (report.py, whose API this package exports), `report.png`
(figure.py), the pages' charts (charts.py) and pictures (plots.py).

Imports models, data and the foundation; never store, training or ui.
"""

from mnist_app.reports.report import (
    DRAWN_RESULTS,
    FIGURE,
    GALLERY_SIZE,
    ReportMissingError,
    Reports,
    SeenWritersError,
    Stage,
    WholeHistory,
    build_report,
    confusion_sentences,
    library_versions,
    misclassified,
    pen_writers_behind,
    per_class_rows,
    read,
    read_drawn_results,
    read_history,
    read_misclassified,
    read_report,
    refuse_seen_writers,
    reported_models,
    side_by_side,
    uncalibrated_note,
    whole_history,
    write_figure,
    write_reports,
)

__all__ = [
    "GALLERY_SIZE",
    "FIGURE",
    "DRAWN_RESULTS",
    "ReportMissingError",
    "SeenWritersError",
    "library_versions",
    "Reports",
    "Stage",
    "WholeHistory",
    "build_report",
    "misclassified",
    "write_reports",
    "write_figure",
    "read",
    "read_history",
    "whole_history",
    "read_report",
    "pen_writers_behind",
    "refuse_seen_writers",
    "read_misclassified",
    "reported_models",
    "per_class_rows",
    "confusion_sentences",
    "read_drawn_results",
    "side_by_side",
    "uncalibrated_note",
]
