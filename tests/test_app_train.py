"""The Train page's states, run headless by AppTest: idle, queued, training, stopped, finished, failed, training
off, MNIST missing. Runs are laid out as training_jobs writes them; the finished one is a real run."""

import re
import time
from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from mnist_app.store.schema import TRAINING_RUNS
from mnist_app.store.visitors import Visitor
from mnist_app.training import jobs, settings
from mnist_app.training.settings import NETWORKS, DataSettings, defaults

from scaffold import ROOT, SAMPLE, free_port, tiny_pen_env

TRAIN = "mnist_app/ui/train.py"
ME = "resume-code-of-this-test-a1b2c3d4e5f60718"  # the visitor's secret; runs are listed by its owner key


@pytest.fixture
def root(tmp_path, monkeypatch):
    for key, value in tiny_pen_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MNIST_DATA", str(SAMPLE))
    return tmp_path / "jobs"  # MNIST_APP_JOBS (conftest)


def train_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["visitor_secret"] = ME  # this visitor's runs
    at.run()
    return at.switch_page(TRAIN).run()


def job_row(
    secret: str = ME, status: str = "queued", message: str = "", progress=None, created=None, number=1, **record_too
) -> str:
    """A run as the store records it (training_runs), with no task on the engine; its id. `record_too`: more of
    its record (a comparison's id and difference)."""
    record = {
        "network": "numpy",
        "values": defaults("numpy"),
        "data": {"digits": 60000, "augment": False, "pen": False},
        "seed": 0,
    } | record_too
    row = {"owner": Visitor.of(secret).owner, "number": number, "task": "train", "record": record, "status": status}
    row |= {"message": message, "progress": progress, "created_at": created or datetime.now(UTC)}
    with jobs.store().writing("add a run to") as conn:
        return str(conn.execute(TRAINING_RUNS.insert().returning(TRAINING_RUNS.c.id), row).scalar_one())


def texts(at: AppTest) -> str:
    parts = [*at.markdown, *at.info, *at.success, *at.warning, *at.error, *at.caption]
    return " | ".join(str(p.value) for p in parts)


def test_without_the_pen_digits_file_the_pen_toggle_is_off_and_says_why(root, monkeypatch, tmp_path):
    monkeypatch.setenv("PENDIGITS", str(tmp_path / "nowhere.tra"))
    at = train_page()
    toggle = at.toggle(key="train_pen")
    assert toggle.disabled and "nowhere.tra" in toggle.help and "PENDIGITS" in toggle.help


def test_idle_the_page_shows_the_knobs_and_invites_a_first_run(root):
    at = train_page()
    assert not at.exception
    assert at.radio(key="train_network").value == "numpy"
    assert at.text_input(key="knob_numpy_hidden").value == "128"
    assert "press Train" in texts(at) and not at.button(key="train").disabled


def test_the_knobs_follow_the_chosen_network(root):
    at = train_page()
    at.radio(key="train_network").set_value("keras-mlp").run()
    assert at.text_input(key="knob_keras-mlp_hidden").value == "512, 256, 128"
    assert at.selectbox(key="knob_keras-mlp_loss").value == "categorical_crossentropy"
    assert at.toggle(key="knob_keras-mlp_batch_norm").value is False


def test_queued_the_page_shows_the_place_in_the_queue(root):
    job_row(secret="someone-else", status="running")
    mine = job_row()
    at = train_page()
    assert not at.exception
    assert "Queued: position 1" in texts(at)
    assert at.button(key="train").disabled and at.button(key=f"stop_{mine}")


def test_training_the_page_shows_progress_and_live_curves(root):
    progress = {"phase": "training", "epoch": 1, "epochs": 6, "done": 300, "batches": 843, "digits_per_s": 25000}
    progress |= {"eta_s": 7.5, "trace": [[0.5, 0.6, 0.8], [1.0, 0.3, 0.9], [1.36, 0.25, 0.93]]}
    progress |= {"history": {"loss": [0.3], "accuracy": [0.9], "val_loss": [0.2], "val_accuracy": [0.94]}}
    job_row(status="running", progress=progress)
    at = train_page()
    assert not at.exception
    bar = at.get("progress")[0]
    assert "Epoch 2/6 · 25,000 digits/s · 8 s left" in bar.proto.text
    assert len(at.get("vega_lite_chart")) == 2  # loss and accuracy, live


@pytest.mark.parametrize(
    ("status", "message", "shown_as"),
    [
        ("stopped", "stopped by you before its first epoch ended: nothing to keep", "warning"),
        ("failed", "MNIST_DATA is /nowhere, which holds no MNIST.", "error"),
        ("stopped", "interrupted: the training engine lost it (its server or workers stopped)", "warning"),
    ],
)
def test_an_ended_run_says_how_it_ended(root, status, message, shown_as):
    job_row(status=status, message=message)
    at = train_page()
    assert not at.exception
    assert any(message in element.value for element in getattr(at, shown_as))


def test_a_run_that_died_without_a_word_shows_as_stopped_not_running(root):
    job_row(status="running", created=datetime(2026, 11, 30, tzinfo=UTC))  # its engine and worker are gone
    at = train_page()
    assert any("interrupted" in w.value for w in at.warning)
    assert not at.button(key="train").disabled


def test_finished_the_page_shows_the_results_and_offers_keep_and_draw(root):
    job = jobs.submit(
        "numpy", defaults("numpy") | {"hidden": 32, "epochs": 2}, DataSettings(digits=2000), Visitor.of(ME).owner
    )
    deadline = time.monotonic() + 600  # ends when the run does: niced runs crawl while the suite loads both cores
    while jobs.read(job).status in (jobs.QUEUED, jobs.RUNNING) and time.monotonic() < deadline:
        time.sleep(0.2)
    at = train_page()
    assert not at.exception
    assert any(m.value.startswith("**MNIST test accuracy: ") for m in at.markdown)
    table = at.dataframe[0].value  # the run beside the shipped models
    assert list(table["model"])[0] == "Run 1: NumPy MLP, written from scratch" and len(table) == 5
    at.button(key=f"keep_{job.id}").click().run()
    assert not at.exception and any("#1 Run 1" in m.value for m in at.markdown)


def test_a_setting_out_of_its_limits_is_refused_with_the_limit_named(root):
    at = train_page()
    at.text_input(key="knob_numpy_hidden").set_value("128, 64").run()
    at.button(key="train").click().run()
    assert any("this network takes 1 to 1" in e.value for e in at.error)
    assert jobs.list_jobs() == []


def test_training_off_removes_the_page(monkeypatch):
    monkeypatch.setenv("MNIST_APP_TRAINING", "off")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    with pytest.raises(ValueError, match="Known pages") as refused:
        at.switch_page(TRAIN)
    assert "train.py" not in str(refused.value).split("Known pages")[1]


def test_without_mnist_the_page_says_how_to_fix_it_and_the_others_still_work(root, monkeypatch):
    monkeypatch.setenv("MNIST_DATA", str(root.parent / "nowhere"))
    at = train_page()
    assert not at.exception
    assert "Training needs MNIST" in at.error[0].value and "MNIST_DATA" in at.error[0].value
    at.switch_page("mnist_app/ui/draw.py").run()
    assert not at.exception and not at.error


def test_an_unreachable_scheduler_makes_the_page_say_training_is_unavailable_and_drawing_goes_on(root, monkeypatch):
    monkeypatch.setenv("MNIST_APP_CLUSTER", f"tcp://127.0.0.1:{free_port()}")  # nobody listens there
    at = train_page()
    at.button(key="train").click().run()
    assert not at.exception
    assert any("Training is unavailable" in e.value and "127.0.0.1" in e.value for e in at.error), texts(at)
    [run] = jobs.list_jobs()  # nothing waits for an engine that is not there: the run ended, saying why
    assert run.status == jobs.FAILED and "unavailable" in run.message
    at.switch_page("mnist_app/ui/draw.py").run()
    assert not at.exception and not at.error


def test_a_stopped_run_says_so_once_and_keeps_its_curves_beside_its_end(root):
    progress = {"phase": "training", "epoch": 1, "epochs": 6, "done": 843, "batches": 843, "digits_per_s": 25000}
    progress |= {"eta_s": 30.0, "trace": [[0.5, 0.6, 0.8], [1.0, 0.3, 0.9], [2.0, 0.2, 0.94]]}
    progress |= {
        "history": {"loss": [0.3, 0.2], "accuracy": [0.9, 0.94], "val_loss": [0.2, 0.18], "val_accuracy": [0.94, 0.95]}
    }
    end = {"status": "stopped", "message": "stopped by you before its first epoch ended: nothing to keep"}
    job_row(status=end["status"], message=end["message"], progress=progress)
    at = train_page()
    assert not at.exception
    said = [w.value for w in at.warning]
    assert any(w.endswith("stopped by you before its first epoch ended: nothing to keep") for w in said), said
    assert not any("stopped. stopped" in w for w in said)
    assert len(at.get("vega_lite_chart")) >= 2  # loss and accuracy, still there after the run


@pytest.mark.parametrize("network", list(NETWORKS))
def test_every_knob_the_page_offers_is_exactly_what_the_server_accepts(root, network):
    """Each knob's widget is drawn from its declaration: its ends and steps are the server's, and every value it
    offers is accepted while the next step past either end is refused."""
    at = train_page()
    at.radio(key="train_network").set_value(network).run()
    for knob in settings.NETWORKS[network].knobs:
        spec, key = settings.KNOBS[knob], f"knob_{network}_{knob}"
        if spec.widget == "range":
            proto = at.slider(key=key).proto
            assert (proto.min, proto.max, proto.step) == pytest.approx((spec.low, spec.high, spec.step)), knob
        elif spec.widget == "steps":
            assert list(at.select_slider(key=key).proto.options) == [f"{v:g}" for v in spec.options], knob
        elif spec.widget == "choice":
            assert list(at.selectbox(key=key).options) == [spec.names.get(o, o) for o in spec.options], knob
        values = defaults(network)
        for offered in spec.offered():
            settings.to_config(network, values | {knob: offered}, DataSettings())
        if spec.widget == "range":
            for beyond in (spec.low - spec.step, spec.high + spec.step):
                with pytest.raises(settings.SettingsError, match=re.escape(spec.label)):
                    settings.to_config(network, values | {knob: type(values[knob])(beyond)}, DataSettings())


def test_the_admin_token_shows_every_run_waiting_or_training_and_stops_anyones(root, monkeypatch):
    monkeypatch.setenv("MNIST_APP_ADMIN_TOKEN", "teacher-secret")
    theirs = job_row(secret="a-student", status="queued")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["visitor_secret"] = ME
    at.session_state["admin_token"] = "teacher-secret"
    at.run()
    at = at.switch_page(TRAIN).run()
    assert not at.exception
    assert any(f"#{theirs} Run 1: NumPy MLP" in m.value for m in at.markdown)
    at.button(key=f"stop_any_{theirs}").click().run()
    assert jobs.read(theirs).status == jobs.STOPPED


def test_without_the_admin_token_nobody_elses_runs_are_shown(root):
    theirs = job_row(secret="a-student", status="queued")
    at = train_page()
    assert not at.exception and not any(f"#{theirs} " in m.value for m in at.markdown)


def compare_optimizers(at: AppTest, optimizers: list[str]) -> AppTest:
    """Vary the optimizer among `optimizers` in Compare settings and press its button."""
    at.selectbox(key="compare_knob").set_value("optimizer").run()
    at.multiselect(key="compare_values_numpy_optimizer").set_value(optimizers).run()
    return at.button(key="compare_start").click().run()


def test_compare_settings_refuses_a_bad_comparison_with_what_is_out_named_and_queues_nothing(root):
    at = train_page()
    assert at.selectbox(key="compare_knob").options[0] == "Network"
    compare_optimizers(at, ["adam"])
    assert any("at least two different values of Optimizer" in e.value for e in at.error)
    at.text_input(key="knob_numpy_hidden").set_value("128, 64").run()
    compare_optimizers(at, ["adam", "sgd"])
    assert any("this network takes 1 to 1" in e.value for e in at.error)
    assert jobs.list_jobs() == []


def test_compare_settings_counts_as_its_runs_against_the_visitors_limit(root, monkeypatch):
    monkeypatch.setenv("MNIST_APP_RUNS_PER_VISITOR", "2")
    at = compare_optimizers(train_page(), ["adam", "sgd", "momentum"])
    assert "these 3 settings are 3 runs" in texts(at)  # said beside the button before pressing it
    assert any("these 3 settings are 3 runs" in e.value and "limit is 2 per person" in e.value for e in at.error)
    assert jobs.list_jobs() == []


def test_compare_settings_trains_the_variations_and_ends_in_a_table_of_keepable_results(root):
    at = train_page()
    at.text_input(key="knob_numpy_hidden").set_value("16").run()
    at.slider(key="knob_numpy_epochs").set_value(1).run()
    at.slider(key="train_digits").set_value(settings.MIN_DIGITS).run()
    at = compare_optimizers(at, ["adam", "sgd"])
    assert not at.exception and not at.error
    started = jobs.list_jobs()
    assert len(started) == 2 and len({run.comparison for run in started}) == 1 and started[0].comparison
    deadline = time.monotonic() + 600
    while any(jobs.read(run).status in jobs.ACTIVE for run in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    assert not at.exception
    [table] = [frame.value for frame in at.dataframe if "setting" in frame.value.columns]
    assert list(table["setting"]) == ["optimizer adam", "optimizer sgd"] and set(table["ended"]) == {"finished"}
    assert all(share.endswith("%") for share in [*table["MNIST test"], *table["drawn, writers 21-30"]])
    at.button(key=f"keep_compared_{started[1].id}").click().run()
    assert not at.exception and any(
        "Run 2: NumPy MLP, written from scratch (optimizer sgd)" in m.value for m in at.markdown
    )


def test_while_a_comparison_trains_its_runs_curves_share_one_chart_and_each_says_where_it_stands(root):
    progress = {"phase": "training", "epoch": 1, "epochs": 6, "done": 300, "batches": 843, "digits_per_s": 25000}
    progress |= {"eta_s": 7.5, "trace": [[0.5, 0.6, 0.8], [1.0, 0.3, 0.9], [1.36, 0.25, 0.93]]}
    progress |= {"history": {"loss": [0.3], "accuracy": [0.9], "val_loss": [0.2], "val_accuracy": [0.94]}}
    job_row(status="running", progress=progress, comparison="c0ffee", difference="optimizer adam", number=1)
    job_row(status="queued", comparison="c0ffee", difference="optimizer sgd", number=2)
    at = train_page()
    assert not at.exception
    said = texts(at)
    assert "Run 1: NumPy MLP, written from scratch (optimizer adam): epoch 2/6, training" in said
    assert "Run 2: NumPy MLP, written from scratch (optimizer sgd): queued, position 1" in said
    charts = [chart.proto.spec for chart in at.get("vega_lite_chart")]
    assert any("optimizer adam" in spec and "optimizer sgd" in spec for spec in charts)  # one chart, both runs
    assert at.button(key="compare_stop")
