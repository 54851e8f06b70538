"""Atomic writes: a reader sees the old file or the new one, never half of one."""

import json

import pytest

from mnist_app.artifacts import atomic_path, read_json, write_json


def test_a_json_file_round_trips(tmp_path):
    write_json(tmp_path / "a" / "report.json", {"accuracy": 0.99, "classes": [0, 1]})
    assert read_json(tmp_path / "a" / "report.json") == {"accuracy": 0.99, "classes": [0, 1]}


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "report.json"
    write_json(path, {"version": 1})
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text('{"version": 2')  # half written
        raise RuntimeError("killed")
    assert read_json(path) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_reading_anything_but_a_json_object_is_a_value_error_naming_the_file(tmp_path, text):
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(ValueError, match="bad.json"):
        read_json(tmp_path / "bad.json")


def test_written_files_are_readable_by_others(tmp_path):
    write_json(tmp_path / "x.json", {})
    assert (tmp_path / "x.json").stat().st_mode & 0o044 == 0o044
    assert json.loads((tmp_path / "x.json").read_text()) == {}
