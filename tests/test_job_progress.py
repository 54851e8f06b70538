"""A run's progress as the Train page reads it: the time left comes from a moving pace, so it neither jumps at each
epoch's validation nor stays stuck on a slow first batch."""

import itertools

import pytest

from mnist_app.training import job_process


class Clock:
    """Seconds that pass only when a test says so."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(job_process.time, "monotonic", clock)
    return clock


def eta_after_each_write(monkeypatch, clock, pauses: dict[int, float], epochs=4, batches=100) -> list[float]:
    """Trains `epochs` of `batches` at 0.1 s a batch, with extra seconds before the batches named in `pauses`; the
    time left as the page reads it after every write."""
    written = []
    monkeypatch.setattr(job_process, "_write", lambda job, progress: written.append(dict(progress)) or False)
    listener = job_process.JobListener(None, epochs=epochs, digits=32, minutes=60)
    etas = []
    for step, (epoch, done) in enumerate(itertools.product(range(epochs), range(1, batches + 1))):
        clock.now += 0.1 + pauses.get(step, 0.0)
        before = listener.last_write
        listener.on_batch(epoch, done, batches, loss=1.0, accuracy=0.5)
        if done == batches:
            clock.now += pauses.get(-epoch - 1, 0.0)  # the epoch's validation
            listener.on_epoch(epoch, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.5})
        if listener.last_write != before:
            etas.append(written[-1]["eta_s"])
    return etas


def test_the_time_left_counts_down_at_the_training_pace(monkeypatch, clock):
    etas = eta_after_each_write(monkeypatch, clock, pauses={})
    assert etas[0] is None  # no pace measured yet
    assert etas[-1] == 0
    assert sorted(etas[1:], reverse=True) == etas[1:]  # it only ever counts down
    assert etas[1] == pytest.approx(0.1 * 400, rel=0.02)  # at once: about 400 batches of 0.1 s left


def test_an_epochs_validation_does_not_make_the_time_left_jump(monkeypatch, clock):
    etas = eta_after_each_write(monkeypatch, clock, pauses={-1: 3.0, -2: 3.0, -3: 3.0})  # 3 s of validation an epoch
    first_validated = 52  # writes every 0.2 s, two batches each: the first epoch's 50, and its end
    steps = [later / earlier for earlier, later in itertools.pairwise(etas[first_validated:]) if earlier > 5]
    assert max(steps) < 1.25, max(steps)  # never up by a quarter from one write to the next


def test_a_slow_moment_moves_the_time_left_a_little(monkeypatch, clock):
    etas = eta_after_each_write(monkeypatch, clock, pauses={150: 2.0})  # one batch takes 2 s more, mid-run
    steps = [later / earlier for earlier, later in itertools.pairwise(etas[1:]) if earlier > 5]
    assert max(steps) < 1.25, max(steps)
