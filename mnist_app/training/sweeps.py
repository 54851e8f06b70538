"""Compare settings: one recipe run in 2-8 variations at one press, as the source projects' lessons compare Adam with
SGD, dropout with none, BatchNorm with none, NumPy with Keras.

A comparison varies one or two knobs of the Train page's recipe (or the network itself); its variations are the
product of the values chosen. Every variation is checked by the knobs' own check (settings.to_config) and the whole
comparison against the visitor's share of runs (it counts as its runs) before anything is queued; then all of them
are queued at once (jobs.queue_all), each a run of its own (kept, drawn with and stopped like any run) whose record
carries the comparison's id and what sets it apart. With one worker they train in turn; with four, together.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mnist_app import reports
from mnist_app.training import jobs
from mnist_app.training.settings import COMMON, KNOBS, NETWORKS, DataSettings, SettingsError, defaults, to_config

MIN_SETTINGS, MAX_SETTINGS = 2, 8
MAX_VARIED = 2  # knobs varied at once: Adam against SGD, each with and without BatchNorm
NETWORK = "network"  # the "knob" that varies the network itself: each keeps its own layers, the common knobs carry


@dataclass(frozen=True)
class Variation:
    """One setting of a comparison: the network, its knobs' values, and what sets it apart ("optimizer sgd")."""

    network: str
    values: dict
    difference: str


def variable_knobs(network: str) -> list[str]:
    """What a comparison of `network`'s recipe can vary: the network itself, then each knob offering values."""
    return [NETWORK] + [knob for knob in NETWORKS[network].knobs if choices(knob)]


def choices(knob: str) -> tuple:
    """Every value of `knob` a comparison may choose among: what its widget offers (a switch: off and on)."""
    if knob == NETWORK:
        return tuple(NETWORKS)
    spec = KNOBS[knob]
    return (False, True) if spec.widget == "switch" else spec.offered()


def name_of(knob: str) -> str:
    """What the page calls a knob."""
    return "Network" if knob == NETWORK else KNOBS[knob].label


def say(knob: str, value: Any) -> str:
    """A knob's value in words: 'Keras MLP', 'sgd', 'on', '0.001'."""
    if knob == NETWORK:
        return NETWORKS[value].label if value in NETWORKS else str(value)
    spec = KNOBS[knob]
    if spec.widget == "switch":
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(spec.names.get(value, value))


def variations(network: str, values: Mapping[str, Any], varied: Mapping[str, Sequence]) -> list[Variation]:
    """The recipe once per combination of the varied knobs' values, in the order chosen (unchecked)."""
    knobs = list(varied)
    found = []
    for combination in itertools.product(*(varied[knob] for knob in knobs)):
        chosen = dict(zip(knobs, combination, strict=True))
        kind = chosen.pop(NETWORK, network)
        base = dict(values) if kind == network else _carried(kind, values)
        difference = ", ".join(f"{name_of(k).lower()} {say(k, v)}" for k, v in chosen.items())
        found.append(Variation(kind, base | chosen, difference))
    return found


def _carried(network: str, values: Mapping[str, Any]) -> dict:
    """Another network's own defaults, with the recipe's common knobs (optimizer, rate, batch, epochs...) carried."""
    own = defaults(network) if network in NETWORKS else {}
    return own | {knob: values[knob] for knob in COMMON if knob in values and knob in own}


def check(network: str, values: Mapping[str, Any], data: DataSettings, varied: Mapping[str, Sequence]):
    """The comparison's variations, every one checked as a run's settings are; SettingsError naming what is out."""
    if not 1 <= len(varied) <= MAX_VARIED:
        raise SettingsError(f"Compare settings: vary one or {MAX_VARIED} knobs, not {len(varied)}")
    for knob, chosen in varied.items():
        if knob != NETWORK and knob not in KNOBS:
            raise SettingsError(f"Compare settings: there is no knob {knob!r}")
        if len(chosen) < 2 or len(set(map(repr, chosen))) < len(chosen):
            raise SettingsError(f"Compare settings: choose at least two different values of {name_of(knob)}")
    found = variations(network, values, varied)
    if not MIN_SETTINGS <= len(found) <= MAX_SETTINGS:
        raise SettingsError(
            f"Compare settings: {len(found)} settings; a comparison runs {MIN_SETTINGS} to {MAX_SETTINGS}"
        )
    for variation in found:
        to_config(variation.network, variation.values, data)  # SettingsError naming the knob and its limit
    return found


def submit(
    network: str,
    values: Mapping[str, Any],
    data: DataSettings,
    varied: Mapping[str, Sequence],
    owner: str,
    seed: int = 0,
    url: str | None = None,
) -> list[jobs.Job]:
    """Queue every variation as a run sharing one comparison id; SettingsError (TooManyRuns past the visitor's share)
    and nothing queued when any setting is out."""
    found = check(network, values, data, varied)
    comparison = uuid.uuid4().hex[:12]
    records = [
        {"network": v.network, "values": v.values, "data": asdict(data), "seed": seed}
        | {"comparison": comparison, "difference": v.difference}
        for v in found
    ]
    return jobs.queue_all(records, jobs.TRAIN, owner, url)


def comparisons(runs: Sequence[jobs.Job]) -> dict[str, list[jobs.Job]]:
    """The runs of each comparison, by its id, oldest comparison first."""
    grouped: dict[str, list[jobs.Job]] = {}
    for run in runs:
        if run.comparison:
            grouped.setdefault(run.comparison, []).append(run)
    return grouped


def title(compared: Sequence[jobs.Job]) -> str:
    """'Runs 4-7: NumPy MLP, optimizer sgd / adam'."""
    numbers = [run.number for run in compared]
    networks = list(dict.fromkeys(NETWORKS[run.network].label for run in compared))
    return f"Runs {min(numbers)}-{max(numbers)}: {' / '.join(networks)}"


def active(compared: Sequence[jobs.Job]) -> bool:
    return any(run.status in jobs.ACTIVE for run in compared)


def results(compared: Sequence[jobs.Job]) -> list[dict]:
    """The comparison's table: each variation's network and difference, how it ended, MNIST test accuracy, the held-
    out pen writers' drawn-digit accuracy, and its training time."""
    return [_row(run) for run in compared]


def _row(run: jobs.Job) -> dict:
    row = {"run": run.number, "network": NETWORKS[run.network].label, "setting": run.difference, "ended": run.status}
    report = reports.read(run.model_folder).report if run.has_model() else {}
    drawn = (report.get("drawn") or {}).get("accuracy")
    return row | {
        "MNIST test": _share(report.get("test", {}).get("accuracy")),
        "drawn, writers 21-30": _share(drawn),
        "training time": f"{report['training_seconds']:.1f} s" if "training_seconds" in report else "",
    }


def _share(value: float | None) -> str:
    return f"{value:.2%}" if isinstance(value, float) else ""
