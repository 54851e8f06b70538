"""The training engine: Dask distributed (docs/engine.md says why it, not Ray, from measurements on 2 cores).

With MNIST_APP_CLUSTER unset, the first run starts a local cluster inside the app's process (a scheduler, and
`local_workers()` worker processes of one thread each) and it stops with the app. With MNIST_APP_CLUSTER=tcp://host:8786
every app server sends its runs to that scheduler; worker machines join it with Dask's own command:

    dask scheduler --port 8786
    dask worker tcp://host:8786 --nworkers 2 --nthreads 1 --resources train=1

A run needs one `train` resource, so one run trains per worker at a time; the scheduler queues the rest, retries a
run whose worker died on another (distributed.scheduler.allowed-failures), and cancels a queued one. Each worker holds
its numeric libraries to one thread, so runs side by side do not fight over cores.
"""

from __future__ import annotations

import atexit
import os
import threading

RESOURCE = "train"
ONE_THREAD = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
    )
}
# A worker started by `dask worker` reads its configuration from its environment: the same profiler setting as the
# embedded engine's (DASK_CONFIG), which docs/deploy.md's command, the tests' cluster and classroom.py pass
WORKER_ENV = {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
DASK_CONFIG = {
    # its sampling of every thread's stack, every 10 ms on the worker's event loop, takes the GIL from the run: none
    # is needed here
    "distributed.worker.profile.enabled": False,
    "distributed.scheduler.allowed-failures": 2,  # a run whose worker died is tried on others twice more
    "distributed.worker.daemon": False,
}

# what the embedded engine's tasks take from the app's environment (a cluster's workers have their own)
PASSED = (
    "MNIST_DATA",
    "PENDIGITS",
    "MNIST_APP_CACHE",
    "MNIST_APP_MODELS",
    "MNIST_APP_TRAIN_MINUTES",
    "MNIST_APP_TRAIN_MEMORY_MB",
)

ASK_TIMEOUT_S = 10  # a page asking the scheduler waits no longer: its view goes on, and asks again on its next run

_lock = threading.Lock()
_clients: dict = {}  # by scheduler address ("" for the embedded engine): a client, and the embedded cluster
_futures: dict = {}


class EngineUnavailable(RuntimeError):
    """The training engine cannot be reached or started; the message says which and why."""


def cluster_address() -> str:
    """MNIST_APP_CLUSTER: an existing scheduler's address; empty for the embedded engine."""
    return os.environ.get("MNIST_APP_CLUSTER", "").strip()


def local_workers() -> int:
    """The embedded engine's workers: MNIST_APP_TRAIN_WORKERS, else one per core but one, which the app server keeps
    for reading drawings (at least one): on 2 cores a run trains beside a Draw page that stays quick."""
    value = os.environ.get("MNIST_APP_TRAIN_WORKERS")
    return max(1, int(value)) if value else max(1, (os.cpu_count() or 1) - 1)


def client():
    """The app's Dask client, started on first use (the embedded cluster too); EngineUnavailable if it cannot be."""
    address = cluster_address()
    with _lock:
        if address in _clients and _clients[address][0].status == "running":
            return _clients[address][0]
        import dask
        from distributed import Client, LocalCluster

        dask.config.set(DASK_CONFIG)
        try:
            if address:
                _clients[address] = (Client(address, timeout=10, set_as_default=False), None)
            else:
                os.environ.update(ONE_THREAD)  # the workers inherit it
                cluster = LocalCluster(
                    n_workers=local_workers(),
                    threads_per_worker=1,
                    processes=True,
                    resources={RESOURCE: 1},
                    dashboard_address=None,
                    # no dashboard, and its HTTP routes (health, metrics) on a free loopback port, not Dask's 8787,
                    # which another app server's engine, or anyone's Dask, may want on the same machine
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    host="127.0.0.1",
                    env=ONE_THREAD,
                )
                _clients[address] = (Client(cluster, set_as_default=False), cluster)
        except (OSError, TimeoutError, RuntimeError) as exc:
            where = address or "the embedded one"
            raise EngineUnavailable(f"the training engine ({where}) is unavailable: {exc}") from exc
        if len(_clients) == 1:
            atexit.register(stop)
        return _clients[address][0]


def stop() -> None:
    """Close the client, and the embedded cluster with its workers (their runs end with them)."""
    with _lock:
        while _clients:
            for part in _clients.popitem()[1]:
                try:
                    if part is not None:
                        part.close()
                except Exception:  # closing on the way out: nothing left to tell
                    pass


def task_env() -> dict[str, str | None]:
    """The settings a run takes from the app: the embedded engine's workers see the app's MNIST, pen digits, cache
    and time limit as they are now; a cluster's workers their own (empty)."""
    return {} if cluster_address() else {name: os.environ.get(name) for name in PASSED}


def workers() -> int:
    """How many workers can train now (1 when none has joined yet, or the scheduler does not answer, so an estimate
    never divides by 0)."""

    def trainers(dask_scheduler):
        return sum(1 for worker in dask_scheduler.workers.values() if worker.resources.get(RESOURCE))

    try:
        return max(1, client().run_on_scheduler(trainers, callback_timeout=ASK_TIMEOUT_S))
    except (EngineUnavailable, OSError):
        return 1


def call(function: str, *args):
    """On a worker: run `module:function` (named, so that whoever submits needs no import of the task's module)."""
    import importlib

    module, name = function.split(":")
    return getattr(importlib.import_module(module), name)(*args)


def submit(function: str, *args, key: str, priority: int) -> None:
    """Run the function named `module:function` with `args` as the task `key` on a worker with a `train` resource,
    whatever becomes of this app server (fire and forget)."""
    from distributed import fire_and_forget

    future = client().submit(call, function, *args, key=key, priority=priority, resources={RESOURCE: 1}, pure=False)
    fire_and_forget(future)
    _futures[key] = future  # held here, so that `gave_up` can tell why it failed


def gave_up(key: str) -> str | None:
    """Why the engine gave up on a task this server submitted (its workers kept dying), or None."""
    future = _futures.get(key)
    if future is None or future.status != "error":
        return None
    exc = future.exception()
    return f"{type(exc).__name__}: {exc}"


def cancel(key: str) -> None:
    """Take a queued task off the scheduler (a running one ends through its run's stop flag)."""
    from distributed import Future

    try:
        c = client()
        Future(key, c).cancel(force=True)
    except EngineUnavailable:
        pass


def known(keys: list[str]) -> set[str]:
    """Which of these tasks the scheduler still holds (queued, running or retrying); TimeoutError (an OSError) when
    it does not answer in ASK_TIMEOUT_S."""
    if not keys:
        return set()

    def held(dask_scheduler, keys):
        return [k for k in keys if k in dask_scheduler.tasks]

    return set(client().run_on_scheduler(held, keys=keys, callback_timeout=ASK_TIMEOUT_S))
