"""Many users at once: 16 browser sessions draw different digits with different models on one server, and save them."""

import asyncio
from pathlib import Path

import pytest

from mnist_app import models
from mnist_app.store.drawings import DrawingStore

from scaffold import (
    CHROMIUM,
    load_jobs,
    many_users,
    readable_digits,
    require,
    rss_mib,
    server_log_problems,
    streamlit_server,
)

pytestmark = [pytest.mark.load, pytest.mark.browser]
SESSIONS = 16


def test_sixteen_sessions_at_once_each_get_their_own_right_answer_and_every_save_is_kept(tmp_path):
    require(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium")
    digits = readable_digits(models.SHIPPED, per_label=2)
    n = len(models.SHIPPED)
    jobs = load_jobs(digits, SESSIONS)
    log, store_url = tmp_path / "server.log", f"sqlite:///{tmp_path / 'drawings.sqlite'}"
    with streamlit_server(log, env={"MNIST_APP_DB": store_url}) as (url, server):
        warm = asyncio.run(many_users(url, jobs[:n]))  # every model loaded once first: the memory baseline
        baseline = rss_mib(server.pid)
        results = asyncio.run(many_users(url, jobs, save=True))
        after = rss_mib(server.pid)
    text = log.read_text()

    assert [answer for answer, _, _ in warm] == [f"Prediction: {digit.label}" for _, digit in jobs[:n]]
    assert sum(redrawn for _, _, redrawn in [*warm, *results]) <= 1, "strokes were lost: the canvas never sent them"
    for (name, digit), (answer, caption, _) in zip(jobs, results, strict=True):
        assert answer == f"Prediction: {digit.label}"  # its own digit, not another session's
        assert caption.endswith(models.label_of(name))  # its own model choice
    saved = DrawingStore(store_url).page(0, 100)
    assert len(saved) == SESSIONS  # every save kept, none twice
    assert sorted((d.model, d.label) for d in saved) == sorted((name, digit.label) for name, digit in jobs)
    assert len({d.owner for d in saved}) == SESSIONS  # one secret (so one owner) per browser
    for name in models.SHIPPED:  # each model loaded once for the whole server, not once per session
        assert text.count(f"mnist-app loaded model {name} ") == 1
    assert server_log_problems(text) == []
    print(f"server memory: {baseline:.0f} MiB with every model, {after:.0f} MiB after {SESSIONS} sessions saved")
    assert after - baseline < 256, f"{SESSIONS} sessions grew server memory from {baseline:.0f} to {after:.0f} MiB"
