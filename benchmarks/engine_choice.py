"""Ray or Dask distributed for the Train page's runs (issue 37), measured on this machine: a local cluster's start
time and idle memory (RSS of every process it starts), a default Train-page run (NumPy MLP, the page's defaults,
60,000 digits) alone in a process and as each engine's task (wall and CPU seconds, whole worker process), and a
worker killed mid-run (what becomes of the run). Ray is measured only where it is installed (it is not in
requirements.txt: `pip install "ray[default]"`).

    MNIST_DATA=../shared/mnist python benchmarks/engine_choice.py   # writes benchmarks/results/engine_choice.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

RESULTS = Path(__file__).resolve().parent / "results" / "engine_choice.json"


def default_fit() -> dict:
    """The page's default run through the one pipeline, in this process: wall and CPU seconds, test accuracy."""
    from mnist_app.data import load_mnist
    from mnist_app.training import pipeline, settings

    config = settings.to_config("numpy", settings.defaults("numpy"), settings.DataSettings())
    mnist = load_mnist()
    start, cpu = time.perf_counter(), time.process_time()
    data = pipeline.training_data(mnist, config, None, 0)
    with tempfile.TemporaryDirectory() as folder:
        fitted = pipeline.fit_and_write(config, data, Path(folder) / "model", mnist, name="default", about={})
    return {
        "wall_s": round(time.perf_counter() - start, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "accuracy": fitted.report["test"]["accuracy"],
        "pid": os.getpid(),
    }


def slow_fit(seconds: float) -> int:
    """Work that takes `seconds`, for the killed-worker check: returns the pid that finished it."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.05)
    return os.getpid()


def tree_rss() -> tuple[float, int]:
    """MiB of RSS of this process's descendants, and how many there are."""
    children = psutil.Process().children(recursive=True)
    rss = 0
    for child in children:
        try:
            rss += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return round(rss / 2**20, 1), len(children)


def lone() -> dict:
    code = "import json, engine_choice; print(json.dumps(engine_choice.default_fit()))"
    env = os.environ | {"PYTHONPATH": str(Path(__file__).parent)} | one_thread()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def one_thread() -> dict:
    from mnist_app.training.engine import ONE_THREAD

    return dict(ONE_THREAD)


def measure_dask(runs: int) -> dict:
    import dask
    from distributed import Client, LocalCluster

    from mnist_app.training.engine import DASK_CONFIG

    dask.config.set(DASK_CONFIG)
    os.environ.update(one_thread())
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, resources={"train": 1})
    client = Client(cluster)
    client.wait_for_workers(2)
    result = {"start_s": round(time.perf_counter() - start, 2)}
    time.sleep(3)
    result["idle_rss_mib"], result["processes"] = tree_rss()
    client.submit(default_fit, pure=False).result()  # warm: imports done
    result["runs"] = [client.submit(default_fit, pure=False, resources={"train": 1}).result() for _ in range(runs)]
    future = client.submit(slow_fit, 20, pure=False, resources={"train": 1})
    time.sleep(2)
    [worker] = [w for w, keys in client.processing().items() if future.key in keys]
    victim = client.run(os.getpid, workers=[worker])[worker]
    os.kill(victim, 9)
    killed = time.perf_counter()
    result["killed_worker"] = {"finished_on_another_worker": future.result(timeout=120) != victim}
    result["killed_worker"]["seconds_after_kill"] = round(time.perf_counter() - killed, 1)
    client.close()
    cluster.close()
    return result


def measure_ray(runs: int) -> dict | None:
    try:
        import ray
    except ImportError:
        return None
    env = one_thread() | {"PYTHONPATH": str(Path(__file__).parent)}
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
    ray.get(ray.remote(lambda: 1).remote())
    result = {"start_s": round(time.perf_counter() - start, 2)}
    time.sleep(3)
    result["idle_rss_mib"], result["processes"] = tree_rss()
    fit = ray.remote(num_cpus=1)(default_fit)
    ray.get(fit.remote())
    result["runs"] = [ray.get(fit.remote()) for _ in range(runs)]
    slow = ray.remote(num_cpus=1, max_retries=3)(slow_fit).remote(20)
    time.sleep(4)
    victims = [c.pid for c in psutil.Process().children(recursive=True) if "slow_fit" in " ".join(c.cmdline())]
    for pid in victims:
        os.kill(pid, 9)
    killed = time.perf_counter()
    result["killed_worker"] = {"finished_on_another_worker": ray.get(slow, timeout=120) not in victims}
    result["killed_worker"]["seconds_after_kill"] = round(time.perf_counter() - killed, 1)
    ray.shutdown()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2, help="default runs timed per engine (default 2)")
    args = parser.parse_args(argv)
    result = {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    result["lone"] = [lone() for _ in range(args.runs)]
    print("lone", result["lone"], flush=True)
    result["dask"] = measure_dask(args.runs)
    print("dask", result["dask"], flush=True)
    result["ray"] = measure_ray(args.runs)
    print("ray", result["ray"], flush=True)
    result["load_after"] = os.getloadavg()[0]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
