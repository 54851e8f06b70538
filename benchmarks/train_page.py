"""The Train page in Debian's Chromium against `streamlit run app.py`, on this machine (issue 25's goals):

- the default NumPy run, from the click on Train to its results on screen, and its MNIST test accuracy
  (goal: >= 97% in <= 20 s); the first run on a fresh server and a second one;
- the first source project's Keras MLP (512-256-128, RMSprop), the same way (goal: >= 98% in <= 90 s);
- how often the live view changes while a run trains (goal: >= 2 per second);
- the Draw page's pen-up to reading, in another session, on an idle server and while the Keras run trains
  (goal: <= 2x idle).

    MNIST_DATA=../shared/mnist python benchmarks/train_page.py      # writes benchmarks/results/train_page.json

With --recipes, instead: each source project's recipe trained twice, as a plain script of its own (Keras'
Sequential, compile, fit, evaluate; or a dozen lines of NumPy SGD) and as the Train page's preset through the app's
own trainer on the page's data (training.pipeline.training_data), side by side with the source's published figure
(goals: the preset within 0.5 points of the plain script, and of the published figure where there is one).

    MNIST_DATA=../shared/mnist python benchmarks/train_page.py --recipes   # writes benchmarks/results/recipes.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mnist_app import models
from mnist_app.artifacts import write_json
from mnist_app.data.pen_training import default_cache

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test scaffolding lives with the tests
from scaffold import (
    canvas_box,
    canvas_strokes,
    chromium,
    clear,
    draw,
    readable_digits,
    settle,
    streamlit_server,
)

RESULTS = Path(__file__).resolve().parent / "results" / "train_page.json"
ACCURACY = re.compile(r"MNIST test accuracy: (\d+\.\d+)%")
TRAINING = re.compile(r"Epoch \d+/\d+ · [1-9][\d,]* digits/s")
PEN_UPS = 15  # drawings timed per condition
WATCH_S = 10.0  # how long the live view is watched
PROGRESS_STATE = """() => {
    const bar = document.querySelector("[data-testid='stProgress']");
    return bar ? bar.innerText + "|" + bar.querySelector("[role=progressbar]")?.getAttribute("aria-valuenow") : "";
}"""


def open_page(browser, url: str, path: str = ""):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(300_000)
    page.goto(f"{url}/{path}")
    return page


def run_from_click(page, number: int, watch: bool = False) -> dict:
    """Press Train, wait for run `number`'s results; seconds from the click, its accuracy, and (`watch`) how often
    the live view changed while it trained."""
    start = time.perf_counter()
    page.get_by_role("button", name="Train", exact=True).click()
    result = {}
    if watch:
        page.get_by_text(TRAINING).wait_for()  # its first batches are done: the bar moves from here on
        result["live view changes per second"] = round(live_updates_per_second(page), 2)
    page.get_by_text(re.compile(rf"Run {number}: .*: (finished|stopped|failed)")).wait_for()
    seconds = time.perf_counter() - start
    line = page.get_by_text(ACCURACY).inner_text()
    return result | {"seconds": round(seconds, 2), "mnist_test_accuracy": float(ACCURACY.search(line)[1]) / 100}


def live_updates_per_second(page) -> float:
    """Distinct states of the progress bar (its text and its length) seen per second while a run trains."""
    bar = page.get_by_test_id("stProgress")
    bar.wait_for()
    seen, last, start = 0, None, time.perf_counter()
    while time.perf_counter() - start < WATCH_S:
        state = page.evaluate(PROGRESS_STATE)
        if state and state != last:
            seen, last = seen + 1, state
        time.sleep(0.02)
    return seen / WATCH_S


def pen_ups(page, digit, count: int) -> list[float]:
    """Seconds from the last pen-up of a drawing to its reading on screen, `count` drawings."""
    times = []
    for i in range(count):
        clear(page)
        settle(page, 300)
        # moved a pixel each time: the page never reads again a drawing with the strokes of the one just cleared
        draw(page, canvas_box(page), [stroke + i % 5 for stroke in canvas_strokes(digit)])
        start = time.perf_counter()
        page.get_by_text(f"Prediction: {digit.label}", exact=True).wait_for()
        times.append(time.perf_counter() - start)
    return times


def record(results: dict, what: str, value) -> None:
    """Keep a figure and say it at once: the run takes minutes."""
    results[what] = value
    print(f"{what}: {value}", flush=True)


def summary(times: list[float]) -> dict:
    return {"median_s": round(float(np.median(times)), 3), "p95_s": round(float(np.percentile(times, 95)), 3)}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", action="store_true", help="the source recipes, plain script against preset")
    parser.add_argument("--only", nargs="*", choices=tuple(PUBLISHED), help="some recipes (default: all)")
    return parser.parse_args(argv)


PUBLISHED = {"keras-mlp-rmsprop": 0.9818, "keras-mlp-sigmoid": 0.9796, "numpy-mlp-source": None}  # the sources'
RECIPES = Path(__file__).resolve().parent / "results" / "recipes.json"


def plain_keras(config, mnist) -> float:
    """The recipe as its source project writes it: Sequential, compile, fit with a validation split, evaluate."""
    import keras

    keras.utils.set_random_seed(config.seed)
    out = "sigmoid" if config.loss == "binary_crossentropy" else "softmax"
    layers = [keras.layers.Dense(units, activation=config.activation) for units in config.hidden]
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), *layers, keras.layers.Dense(10, out)])
    optimizer = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}
    model.compile(optimizer[config.optimizer](config.learning_rate), loss=config.loss, metrics=["accuracy"])
    onehot = keras.utils.to_categorical(mnist.y_train, 10)
    model.fit(mnist.x_train / 255.0, onehot, config.batch_size, config.epochs, 0, validation_split=config.val_fraction)
    return float(np.mean(model.predict(mnist.x_test / 255.0, verbose=0).argmax(1) == mnist.y_test))


def plain_numpy(config, mnist) -> float:
    """784-hidden-10 ReLU/softmax, N(0, 0.01) weights, plain SGD on shuffled mini-batches: the first source project."""
    rng = np.random.default_rng(config.seed)
    n_val = int(len(mnist.x_train) * config.val_fraction)
    x, y = mnist.x_train[n_val:].reshape(-1, 784) / 255.0, np.eye(10)[mnist.y_train[n_val:]]
    w1, w2 = rng.normal(0, 0.01, (784, config.hidden)), rng.normal(0, 0.01, (config.hidden, 10))
    b1, b2 = np.zeros(config.hidden), np.zeros(10)
    for _ in range(config.epochs):
        for batch in np.array_split(rng.permutation(len(x)), len(x) // config.batch_size):
            h = np.maximum(x[batch] @ w1 + b1, 0)
            p = np.exp(h @ w2 + b2 - (h @ w2 + b2).max(1, keepdims=True))
            dz2 = (p / p.sum(1, keepdims=True) - y[batch]) / len(batch)
            dz1 = (dz2 @ w2.T) * (h > 0)
            w2, b2 = w2 - config.learning_rate * h.T @ dz2, b2 - config.learning_rate * dz2.sum(0)
            w1, b1 = w1 - config.learning_rate * x[batch].T @ dz1, b1 - config.learning_rate * dz1.sum(0)
    logits = np.maximum(mnist.x_test.reshape(-1, 784) / 255.0 @ w1 + b1, 0) @ w2 + b2
    return float(np.mean(logits.argmax(1) == mnist.y_test))


def preset_run(name: str, mnist) -> float:
    """The page's preset through the app's own trainer, on the data the page gives a run (all of MNIST's training
    digits, its validation share held out)."""
    from mnist_app.contract import in_chunks
    from mnist_app.data import to_float
    from mnist_app.models import kinds
    from mnist_app.training.pipeline import training_data

    config = kinds.preset(name)
    data = training_data(mnist, config, None, config.seed)
    network, _ = kinds.kind_named(config.kind).code().train_network(config, data, models.load, 0, None)
    return float(np.mean(in_chunks(network.predict_proba, to_float(mnist.x_test)).argmax(1) == mnist.y_test))


def recipes(names) -> dict:
    from mnist_app.data import load_mnist
    from mnist_app.models import kinds

    mnist, results = load_mnist(), {}
    for name in names:
        config = kinds.preset(name)
        plain = plain_numpy if config.kind == "numpy" else plain_keras
        start = time.perf_counter()
        results[name] = {"plain script": plain(config, mnist), "plain seconds": time.perf_counter() - start}
        start = time.perf_counter()
        results[name] |= {"preset": preset_run(name, mnist), "preset seconds": time.perf_counter() - start}
        results[name]["published"] = PUBLISHED[name]
        print(name, json.dumps(results[name]), flush=True)
    return results


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.recipes:
        earlier = json.loads(RECIPES.read_text()) if RECIPES.exists() else {}
        write_json(RECIPES, earlier | recipes(args.only or PUBLISHED))
        return
    digit = readable_digits(("numpy-mlp",))[4][0]
    results = {}
    with tempfile.TemporaryDirectory() as tmp, chromium() as browser:
        # the user's cache of drawn digits, as a real server has it; runs and drawings of its own
        env = {
            "MNIST_APP_CACHE": str(default_cache()),
            "MNIST_APP_JOBS": f"{tmp}/jobs",
            "MNIST_APP_DB": f"sqlite:///{tmp}/d.db",
        }
        with streamlit_server(Path(tmp) / "server.log", env) as (url, _):
            draw_page = open_page(browser, url)
            draw_page.get_by_text("Draw a digit (0-9)").wait_for()
            idle = pen_ups(draw_page, digit, PEN_UPS)
            record(results, "pen-up to reading, idle server", summary(idle))

            train = open_page(browser, url, "train")
            train.get_by_text("Set the knobs and press Train").wait_for()
            record(results, "default NumPy run, first on this server", run_from_click(train, 1))
            record(results, "default NumPy run, again", run_from_click(train, 2))

            keras = open_page(browser, url, "train")
            keras.get_by_text("Set the knobs and press Train").wait_for()
            keras.get_by_text("Keras MLP", exact=True).click()
            settle(keras)
            keras_run = run_from_click(keras, 1, watch=True)
            record(results, "Keras MLP run (512-256-128, RMSprop, dropout 0.2, 15 epochs)", keras_run)

            # again, to draw beside it: first with its page open in the same browser, on the same two cores, then
            # with that page closed, as when the person training is on another machine (the run goes on)
            keras.get_by_role("button", name="Train", exact=True).click()
            keras.get_by_text(TRAINING).wait_for()
            watched = pen_ups(draw_page, digit, PEN_UPS)
            keras.context.close()
            unwatched = pen_ups(draw_page, digit, PEN_UPS)
            for what, busy in (("its page open here too", watched), ("its page closed", unwatched)):
                record(results, f"pen-up to reading, while a Keras MLP run trains, {what}", summary(busy))
                ratio = summary(busy)["median_s"] / summary(idle)["median_s"]
                record(results, f"pen-up while training / idle (median), {what}", round(ratio, 2))
    results["machine"] = {
        "cpus": __import__("os").cpu_count(),
        "model shown on the Draw page": models.label_of("numpy-mlp"),
    }
    write_json(RESULTS, results)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
