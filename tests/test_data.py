import gzip
from pathlib import Path

import numpy as np
import pytest

from mnist_app import data
from mnist_app.data import (
    IDX_FILES,
    MnistDataError,
    load_folder,
    load_mnist,
    load_npz,
    parse_idx,
    read_idx_gz,
    split_validation,
)

from scaffold import SAMPLE


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_parse_idx_reads_header_and_data():
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_bytes(array), "x"), array)


def test_truncated_idx_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(10, np.uint8))[:-3]))
    with pytest.raises(MnistDataError, match="t10k-labels-idx1-ubyte.gz"):
        read_idx_gz(path, verify=False)


def test_wrong_content_fails_the_sha256_check(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(10000, np.uint8))))
    with pytest.raises(MnistDataError, match="sha256"):
        read_idx_gz(path)


def test_not_gzip_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"not a gzip file")
    with pytest.raises(MnistDataError, match="train-images-idx3-ubyte.gz"):
        read_idx_gz(path)


def test_folder_without_mnist_says_how_to_point_at_local_files(tmp_path):
    with pytest.raises(MnistDataError, match="MNIST_DATA"):
        load_folder(tmp_path)


def test_sample_npz_loads_as_real_digits():
    mnist = load_npz(SAMPLE)
    assert mnist.x_train.shape == (5000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert set(np.unique(mnist.y_test)) == set(range(10))


def test_mnist_data_environment_variable_is_used(monkeypatch):
    monkeypatch.setenv("MNIST_DATA", str(SAMPLE))
    assert load_mnist().source == str(SAMPLE)


def test_explicit_path_wins_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DATA", str(tmp_path / "nowhere"))
    assert len(load_mnist(SAMPLE).x_test) == 1000


def test_shared_idx_files_pass_their_checksums(full_mnist):
    assert full_mnist.x_train.shape == (60000, 28, 28) and full_mnist.x_test.shape == (10000, 28, 28)
    assert Path(full_mnist.source).is_dir() or full_mnist.source.endswith(".npz")
    assert set(IDX_FILES) == {"x_train", "y_train", "x_test", "y_test"}


def test_validation_split_is_disjoint_seeded_and_from_training_only(mnist_sample):
    x, y = mnist_sample.x_train, mnist_sample.y_train
    x_tr, y_tr, x_val, y_val = split_validation(x, y, 0.2, seed=1)
    assert len(x_val) == 1000 and len(x_tr) == 4000
    again = split_validation(x, y, 0.2, seed=1)
    np.testing.assert_array_equal(again[2], x_val)
    flat = {row.tobytes() for row in x_tr.reshape(len(x_tr), -1)}
    assert not any(row.tobytes() in flat for row in x_val.reshape(len(x_val), -1)[:200] if row.any())


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_validation_fraction_must_be_a_proper_fraction(mnist_sample, fraction):
    with pytest.raises(ValueError):
        split_validation(mnist_sample.x_train, mnist_sample.y_train, fraction, 0)


def test_the_shipped_replay_digits_load_and_match_their_checksum():
    replay = data.load_replay()
    assert replay.x_train.shape == (data.REPLAY_DIGITS, 28, 28) and replay.x_train.dtype == np.uint8
    assert replay.x_test.shape == (data.REPLAY_TEST_DIGITS, 28, 28) and replay.y_test.dtype == np.uint8
    with np.load(data.REPLAY_FILE) as npz:
        assert npz["index"].max() < data.REPLAY_POOL  # never the training digits that measured forgetting
    assert set(np.unique(replay.y_train)) == set(range(10))
    assert data.REPLAY_FILE.stat().st_size < 3_000_000


def test_the_replay_digits_are_remade_from_mnist_as_shipped(full_mnist, tmp_path):
    digest = data.write_replay(full_mnist, tmp_path / "replay-digits.npz")
    assert digest == data.REPLAY_SHA256
    remade = data.load_replay(tmp_path / "replay-digits.npz")
    np.testing.assert_array_equal(remade.x_train, data.load_replay().x_train)


def test_a_corrupt_replay_file_raises_a_replay_data_error(tmp_path):
    raw = bytearray(data.REPLAY_FILE.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 64] = bytes(64)  # a stretch of the compressed digits zeroed
    (tmp_path / "replay-digits.npz").write_bytes(bytes(raw))
    with pytest.raises(data.ReplayDataError, match="replay-digits.npz"):
        data.load_replay(tmp_path / "replay-digits.npz")


def test_replay_digits_that_are_not_the_shipped_ones_raise_a_replay_data_error(tmp_path):
    replay = data.load_replay()
    arrays = {"x_train": replay.x_train.copy(), "y_train": replay.y_train, "x_test": replay.x_test}
    arrays["x_train"][0, 14, 14] ^= 1  # one pixel of one digit changed: a readable file, not the shipped digits
    with np.load(data.REPLAY_FILE) as npz:
        np.savez_compressed(tmp_path / "replay-digits.npz", **arrays, index=npz["index"], y_test=replay.y_test)
    with pytest.raises(data.ReplayDataError, match="sha256 mismatch"):
        data.load_replay(tmp_path / "replay-digits.npz")
    with pytest.raises(data.ReplayDataError, match="cannot be read"):
        data.load_replay(tmp_path / "missing.npz")
