"""How fast is mnist-app? Medians and p95s, printed as a table and saved to benchmarks/results/.

    python benchmarks/speed.py               # everything (about 3 minutes on 2 cores)
    python benchmarks/speed.py --no-browser  # skip the server and browser timings

Measures: canvas_to_mnist per drawing; the Draw page's not-a-digit check per drawing; predict_proba on one
drawing per model (the NumPy model first, checking TensorFlow is still not imported); the memory an ensemble
saves by sharing its member with the page's own copy; in Debian's Chromium against `streamlit run app.py`: the
first NumPy reading after start, the first Keras reading once the page has been up 10 s, the first
comparison of every model, the switch to the Diagnostics page, to each of its tabs and between its
models with each tab open (each timed until Streamlit is idle), the server's memory with every model
and after 16 sessions at once drew, read and saved a digit; and one training epoch of the NumPy
trainer against a Keras model of the same architecture, batch size and data.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from mnist_app import models
from mnist_app.artifacts import atomic_path, write_json
from mnist_app.data import pendigits
from mnist_app.preprocess import canvas_to_mnist
from mnist_app.reading import explain, marks

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the test scaffolding (a real server, Chromium) lives with the tests
RESULTS = ROOT / "benchmarks" / "results"
SWITCHED = ("keras-cnn", "keras-mlp", "ensemble")
SECTIONS = ("Drawn digits and confidence", "MNIST test set", "Training curves")  # the Diagnostics page's tabs
SWITCH_ROUNDS = 2  # per tab: one switch varies by tenths of a second on 2 cores
SWITCHES = len(SECTIONS) * SWITCH_ROUNDS * len(SWITCHED)
TARGETS_S = {
    "first Keras reading, page up 10 s (s)": 1.5,
    **{f"Diagnostics: switch to {name}, first view (s)": 1.0 for name in SWITCHED},
    **{f"Diagnostics: model switch, '{section}' open, slowest (s)": 1.0 for section in SECTIONS},
    f"Diagnostics: model switch, median of {SWITCHES} (s)": 1.0,
    f"Diagnostics: model switch, slowest of {SWITCHES} (s)": 1.0,
}
LOAD_SESSIONS = 16  # browser sessions at once, as tests/test_load.py
TARGETS_MS = {
    "canvas_to_mnist": 3.0,
    "predict_proba numpy-mlp": 1.0,
    "predict_proba keras-mlp": 30.0,
    "predict_proba keras-cnn": 30.0,
    "predict_proba ensemble": 30.0,
    "saliency numpy-mlp": 5.0,
    "saliency keras-mlp": 60.0,
    "saliency keras-cnn": 60.0,
    "saliency ensemble": 150.0,
}


def timings_ms(function, inputs: list) -> dict:
    """Median and p95 of one call per input, in milliseconds (after one warm-up call)."""
    function(inputs[0])
    times = []
    for item in inputs:
        start = time.perf_counter()
        function(item)
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95)), "n": len(times)}


def drawings(count: int) -> list[np.ndarray]:
    digits = pendigits.load()[:count]
    return [pendigits.random_drawing(d, np.random.default_rng((7, i)))[0] for i, d in enumerate(digits)]


def inference(count: int) -> dict:
    canvases = drawings(count)
    results = {"canvas_to_mnist": timings_ms(canvas_to_mnist, canvases)}
    results["mark_problem (the not-a-digit check, in NumPy)"] = timings_ms(marks.mark_problem, canvases)
    images = [canvas_to_mnist(c)[None] for c in canvases]
    for name in models.SHIPPED:  # NumPy first: TensorFlow must still be absent while it predicts
        model = models.load(name)
        results[f"predict_proba {name}"] = timings_ms(model.predict_proba, images)
        if name == "numpy-mlp":
            results["tensorflow imported while the NumPy model predicts"] = "tensorflow" in sys.modules
    for name in models.SHIPPED:  # the explanation's map for the top answer (issue 13)
        model = models.load(name)
        results[f"saliency {name}"] = timings_ms(lambda image, model=model: explain.saliency(model, image), images)
    return results


def server(tmp: Path) -> dict:
    """What a person feels in Chromium: start-up, first readings, page and model switches; memory under load."""
    from scaffold import load_jobs, many_users, readable_digits, rss_mib, streamlit_server

    digits = readable_digits(models.SHIPPED, per_label=2)
    digit = digits[4][0]
    start = time.perf_counter()
    store = {"MNIST_APP_DB": f"sqlite:///{tmp / 'drawings.sqlite'}"}  # never the user's own drawings
    with streamlit_server(tmp / "server.log", store) as (url, process):
        measured = first_readings(url, process, digit, start)
        sessions = time.perf_counter()
        asyncio.run(many_users(url, load_jobs(digits, LOAD_SESSIONS), save=True))
        measured[f"{LOAD_SESSIONS} sessions at once draw, read and save (s)"] = time.perf_counter() - sessions
        measured[f"server memory after {LOAD_SESSIONS} sessions saved (MiB)"] = rss_mib(process.pid)
    return measured


def first_readings(url: str, process, digit, start: float) -> dict:
    """One browser: the first readings since `start` (the server's), page and model switches, and memory."""
    from scaffold import canvas_box, canvas_strokes, chromium, draw, rss_mib, settle, timed

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(url)
        page.get_by_text("Draw a digit (0-9)").wait_for()
        page_up = time.perf_counter()
        draw(page, canvas_box(page), canvas_strokes(digit))
        page.get_by_text("Prediction: 4", exact=True).wait_for()
        results = {"start to first NumPy prediction (s)": time.perf_counter() - start}
        settle(page)
        time.sleep(max(0.0, 10 - (time.perf_counter() - page_up)))  # the page has been up for 10 s
        results["first Keras reading, page up 10 s (s)"] = timed(page, lambda: choose(page, "keras-cnn"))
        results["first 'Compare every model' (s)"] = timed(
            page, lambda: page.get_by_text("Compare every model on this drawing").click()
        )
        results["server memory, every model (MiB)"] = rss_mib(process.pid)
        results["switch to the Diagnostics page (s)"] = timed(
            page, lambda: page.get_by_role("link", name="Diagnostics").click()
        )
        switches = []
        for section in SECTIONS:
            if section != SECTIONS[0]:  # the first is open already
                tab = page.get_by_role("tab", name=section)
                results[f"Diagnostics: open the '{section}' tab (s)"] = timed(page, tab.click)
            in_tab = []
            for round_ in range(SWITCH_ROUNDS):
                for name in SWITCHED:
                    in_tab.append(timed(page, lambda n=name: pick(page, n)))
                    if section == SECTIONS[0] and round_ == 0:
                        results[f"Diagnostics: switch to {name}, first view (s)"] = in_tab[-1]
            results[f"Diagnostics: model switch, '{section}' open, slowest (s)"] = max(in_tab)
            switches += in_tab
        results[f"Diagnostics: model switch, median of {len(switches)} (s)"] = float(np.median(switches))
        results[f"Diagnostics: model switch, slowest of {len(switches)} (s)"] = max(switches)
    return results


def choose(page, name: str) -> None:
    """Choose a model on the Draw page and wait for its reading."""
    page.get_by_text(models.label_of(name), exact=True).click()
    page.get_by_text(f"· {models.label_of(name)}").wait_for()


def pick(page, name: str) -> None:
    """Pick a model in the Diagnostics page's select box."""
    page.locator("[data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name=models.label_of(name), exact=True).click()


def memory_of_sharing() -> dict:
    """Resident memory of a process holding every shipped model, the ensemble's members loaded apart or shared
    with the models already held (as the page's cache shares them)."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); import os\n"
        "from mnist_app import models; from scaffold import rss_mib\n"
        "held = {name: models.load(name) for name in models.SHIPPED if name != 'ensemble'}\n"
        "share = sys.argv[1] == 'shared'\n"
        "ensemble = models.load('ensemble', load_member=(lambda m: held.get(m) or models.load(m)) if share else None)\n"
        "print(rss_mib(os.getpid()))"
    )
    run = lambda how: float(  # noqa: E731
        subprocess.run([sys.executable, "-c", code, how], capture_output=True, text=True, check=True).stdout
    )
    apart, shared = run("apart"), run("shared")
    return {
        "every model, the ensemble's members loaded apart (MiB)": apart,
        "every model, the ensemble's members shared (MiB)": shared,
    }


def training(n_digits: int) -> dict:
    """One epoch (the second, after warm-up) of 784-128-10, SGD 0.01, batch 32, on the same digits."""
    from mnist_app.data import load_mnist, to_float
    from mnist_app.models.numpy_net import NumpyMLPConfig, train

    mnist = load_mnist()
    x, y = to_float(mnist.x_train[:n_digits]), mnist.y_train[:n_digits]
    lines: list[str] = []
    train(NumpyMLPConfig(epochs=2), x, y, x[:1000], y[:1000], log=lines.append)
    numpy_epoch = float(lines[-1].split(" - ")[1].rstrip("s"))

    import keras

    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, "relu"),
            keras.layers.Dense(10, "softmax"),
        ]
    )
    model.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    epoch_times: list[float] = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda *_: epoch_times.append(time.perf_counter()),
        on_epoch_end=lambda *_: epoch_times.append(time.perf_counter() - epoch_times.pop()),
    )
    model.fit(x, y, batch_size=32, epochs=2, validation_data=(x[:1000], y[:1000]), callbacks=[timer], verbose=0)
    return {
        "digits per epoch": n_digits,
        "NumPy epoch (s)": numpy_epoch,
        "Keras epoch (s)": epoch_times[-1],
        "NumPy / Keras time": numpy_epoch / epoch_times[-1],
    }


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    memory = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")) / 1024**2
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory, 1), "python": platform.python_version()}


def table(results: dict) -> str:
    rows = ["| measure | median | p95 | target |", "| --- | --- | --- | --- |"]
    for key, value in results["inference"].items():
        if isinstance(value, dict):
            target = f"<= {TARGETS_MS[key]:g} ms" if key in TARGETS_MS else ""
            rows.append(f"| {key} | {value['median_ms']:.2f} ms | {value['p95_ms']:.2f} ms | {target} |")
        else:
            rows.append(f"| {key} | {value} | | False |")
    for section in ("memory", "server", "training"):
        for key, value in results.get(section, {}).items():
            target = "<= 1" if key == "NumPy / Keras time" else f"<= {TARGETS_S[key]:g} s" if key in TARGETS_S else ""
            rows.append(
                f"| {key} | {value:.2f} | | {target} |" if isinstance(value, float) else f"| {key} | {value} | | |"
            )
    m = results["machine"]
    return (
        "\n".join(rows)
        + f"\n\nMeasured on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drawings", type=int, default=300, help="drawings to time (default 300)")
    parser.add_argument("--train-digits", type=int, default=20000, help="digits per training epoch (default 20000)")
    parser.add_argument("--no-browser", action="store_true", help="skip the server and browser timings")
    args = parser.parse_args(argv)
    results = {"machine": machine(), "inference": inference(args.drawings), "memory": memory_of_sharing()}
    if not args.no_browser:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            results["server"] = server(Path(tmp))
    results["training"] = training(args.train_digits)
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json(RESULTS / "speed.json", results)
    with atomic_path(RESULTS / "speed.md") as tmp:
        tmp.write_text(table(results) + "\n")
    print(table(results))
    print(json.dumps(results["machine"]))


if __name__ == "__main__":
    main()
