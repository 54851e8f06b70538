"""Shared fixtures: a real-MNIST sample shipped in tests/data, and the full data where MNIST_DATA points."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from mnist_app.data import Mnist, load_npz

from scaffold import SAMPLE, postgres_schema, require, tiny_pen_env

# Files whose tests load the machine most (many browser sessions, servers, training runs): on two workers
# (`-n 2 --dist loadfile`) they run one after another on the same worker, never beside each other, where a niced
# training run or sixteen browser sessions would wait on the other for minutes (CI failed so).
HEAVY_FILES = (
    "tests/test_deploy.py",
    "tests/test_load.py",
    "tests/test_browser_teach.py",
    "tests/test_browser_train.py",
)
# The longest files after them, longest first (seconds in the suite on 2 cores, 2026-12-07), handed out before the
# rest: xdist orders files by their number of tests, so a file of one long test (the privacy test, 53 s) came last
# and one worker sat idle while it ran. The first four need no browser: they run beside the heavy files.
LONG_FILES = (
    "tests/test_train.py",  # 185 s
    "tests/test_models.py",  # 77 s
    "tests/test_legibility.py",  # 52 s
    "tests/test_photos.py",  # 44 s
    "tests/test_browser.py",  # 209 s
    "tests/test_app.py",  # 61 s
    "tests/test_browser_layout.py",  # 59 s
    "tests/test_browser_privacy.py",  # 53 s
    "tests/test_app_drawings.py",  # 44 s
    "tests/test_personal.py",  # 42 s
    "tests/test_browser_number.py",  # 31 s
)


def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile, with HEAVY_FILES as one unit of work, handed out first, then LONG_FILES in their order, then
    the rest: the longest units first, so that the last ones to finish are short and both workers end together."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    first = ("heavy files", *LONG_FILES)

    class LongestFirst(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = super()._split_scope(nodeid)
            return "heavy files" if file in HEAVY_FILES else file

        def _assign_work_unit(self, node) -> None:
            for scope in reversed(first):
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return LongestFirst(config, log)


@pytest.fixture(scope="session")
def mnist_sample() -> Mnist:
    """5,000 training and 1,000 test digits of the real MNIST."""
    return load_npz(SAMPLE)


@pytest.fixture(scope="module")
def digits(mnist_sample) -> tuple[np.ndarray, np.ndarray]:
    """400 real MNIST training digits as float32 in [0, 1], and their labels."""
    return mnist_sample.x_train[:400].astype(np.float32) / 255, mnist_sample.y_train[:400]


@pytest.fixture(scope="session")
def full_mnist() -> Mnist:
    require(bool(os.environ.get("MNIST_DATA")), "MNIST_DATA is not set (point it at ../shared/mnist)")
    from mnist_app.data import load_mnist

    return load_mnist()


@pytest.fixture
def model_copy(tmp_path) -> Path:
    """A writable copy of the shipped models folder (weights and reports)."""
    from mnist_app.models import MODELS_DIR

    shutil.copytree(MODELS_DIR, tmp_path / "models")
    return tmp_path / "models"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """$MNIST_APP_TEST_PG, a PostgreSQL server the tests may create schemas in (.ci/start-postgres starts one)."""
    url = os.environ.get("MNIST_APP_TEST_PG", "")
    require(bool(url), "MNIST_APP_TEST_PG is not set (start a server: .ci/start-postgres prints the URL)")

    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        reachable = True
    except sa.exc.OperationalError:
        reachable = False
    finally:
        engine.dispose()
    require(reachable, "the PostgreSQL server in MNIST_APP_TEST_PG does not answer")
    return url


@pytest.fixture
def url(tmp_path, monkeypatch):
    """The training runs' store of their own; MNIST from the shipped sample; a tiny pen-digit file and a private
    cache; the embedded engine (started once per test session, shared)."""
    for key, value in tiny_pen_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MNIST_DATA", str(SAMPLE))
    monkeypatch.delenv("MNIST_APP_CLUSTER", raising=False)
    monkeypatch.setenv("MNIST_APP_RUNS_PER_VISITOR", "4")
    return f"sqlite:///{tmp_path / 'runs.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A fresh, empty store: an SQLite file, or a schema of its own on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'drawings.sqlite'}"
        return
    with postgres_schema(request.getfixturevalue("postgres_url"), "test") as url:
        yield url


@pytest.fixture(autouse=True)
def private_drawing_store(tmp_path, monkeypatch):
    """Every test saves drawings and records runs in a store of its own (MNIST_APP_DB) and caches drawn digits in a
    folder of its own (MNIST_APP_CACHE), never in the user's."""
    monkeypatch.setenv("MNIST_APP_DB", f"sqlite:///{tmp_path / 'drawings.sqlite'}")
    monkeypatch.setenv("MNIST_APP_CACHE", str(tmp_path / "cache"))


def pytest_sessionfinish(session, exitstatus):
    """Wait for the app's background threads (the models' warm-up, readings being made) before the interpreter exits:
    one killed inside TensorFlow at exit aborts the process ("FATAL: exception not rethrown") after the tests passed."""
    import threading

    for thread in threading.enumerate():
        if thread.name == "mnist-app-warm-up" or thread.name.startswith("fill-"):
            thread.join(timeout=300)
