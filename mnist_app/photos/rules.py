"""The paper's rules and squares, and the page's edges, found on a photo's darkness and taken away, the ink over
them kept.

Lines are found by openings along the rows and the columns, their small gaps bridged, kept where they run on far
beyond any digit. Each rule is opened across its own thickness, the page's edges across every line's; a stroke crossing
a rule or lying along it keeps what is thicker or darker than that rule.
"""

from __future__ import annotations

import cv2
import numpy as np

from .light import WEAK

RULE = 0.3  # a line running on over this share of the image is a rule of the paper, not a stroke
THIN = 0.02  # a rule is thinner than this share of the shorter side (drawn ones 0.002-0.008; a bold digit's stroke
# long enough to pass for a line, over 0.03)
EDGE_SLIM = 3.0  # a page's edge inside the photo runs on this many times as far as it is wide (a tall digit does not)
EDGE_ZONE = 0.12  # a line this near the photo's border (share of its side) may be the page's edge
LINE_GAP = 7  # px: a rule seen a little slanted breaks under the opening where it steps a row; gaps this long join
RULE_DARK = 95  # percentile: a rule's darkness, its core's (a stroke along it keeps what it has darker)
RULE_ACROSS = 1.5  # a rule is taken away by an opening across it this many times its thickness long


def without_rules(dark: np.ndarray, reach: int, edge: np.ndarray | None = None) -> np.ndarray:
    """The darkness with the paper's rules and squares taken out, and the ink over them kept.

    A rule is found by a grey opening along rows (then columns): what every `reach`-px run of a line keeps, its gaps
    up to LINE_GAP px bridged (a rule on a page seen askew steps from row to row, and the opening parts it there),
    joined into a line running on over RULE of the image. On each rule's pixels the darkness becomes an opening across
    it, as long as a little more than that rule is thick (`rule_spans`): the thin rule goes, while a stroke crossing
    it, or running along it thicker than it, keeps its own darkness (no gap where a digit crosses a rule); a thin
    stroke running along a rule keeps what it has darker than that rule (`line_levels`). The page's edges
    (`page_edges`) are opened across every line's thickness. `edge`: the pixels at the photo's edge.
    """
    h, w = dark.shape
    edge = np.zeros(dark.shape, dtype=bool) if edge is None else edge
    for along, long_side, axis in (((reach, 1), w, 0), ((1, reach), h, 1)):
        lines = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, along))
        bridge = cv2.getStructuringElement(cv2.MORPH_RECT, (LINE_GAP, 3) if axis == 0 else (3, LINE_GAP))
        joined = cv2.morphologyEx((lines > WEAK / 2).astype(np.uint8), cv2.MORPH_CLOSE, bridge)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        long = np.flatnonzero(stats[:, cv2.CC_STAT_WIDTH + axis] >= RULE * long_side)
        long = long[long > 0]
        if not long.size:
            continue
        found = np.isin(labels, long)
        level = float(np.percentile(lines[found], 75))  # the lines' darkness, the desk's and page's edges' with them
        rules, spans = rule_spans(found, axis, edge, THIN * min(h, w))
        shared = int(np.ceil(RULE_ACROSS * thickness(found, across=axis))) | 1
        span_of = np.array([0, *spans])[rules]  # each rule's pixels: its opening length
        line_level = np.zeros(count, dtype=np.float32)
        on_rules = rules > 0
        line_level[long] = line_levels(lines[on_rules], labels[on_rules], long, level)
        level_of = cv2.dilate(line_level[labels], np.ones((3, 3), np.uint8))  # each rule's pixels: its line's level
        page = page_edges(found & ~grown(on_rules), axis, long_side)
        # (opening length, the lines opened so, the darkness ink over them keeps beyond): each rule by its own line's
        # level, the page's edges by all the lines' level
        openings = [(span, span_of == span, level_of) for span in sorted(set(spans))] + [(shared, page, level)]
        for span, ours, below in openings:
            kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (1, span) if axis == 0 else (span, 1))
            across = cv2.morphologyEx(dark, cv2.MORPH_OPEN, kernel)
            dark = np.where(grown(ours), np.maximum(np.minimum(dark, across), dark - below), dark)
    return dark


def line_levels(darkness: np.ndarray, line_of: np.ndarray, ids: np.ndarray, level: float) -> np.ndarray:
    """How dark each line `ids` is where its rules are (`darkness` on the rules' pixels, `line_of` each one's line):
    the RULE_DARK percentile, at most `level`. Ink along a rule keeps what it has darker than that rule, not than the
    darkest lines of the photo (the desk, a page's edge): a stroke lying along a faint rule stays."""
    order = np.argsort(line_of, kind="stable")
    grouped, lines = darkness[order], line_of[order]
    first, past = np.searchsorted(lines, ids, "left"), np.searchsorted(lines, ids, "right")
    own = [np.percentile(grouped[a:b], RULE_DARK) if b > a else level for a, b in zip(first, past, strict=True)]
    return np.minimum(np.array(own, dtype=np.float32), level)


def page_edges(lines: np.ndarray, axis: int, long_side: int) -> np.ndarray:
    """The lines that are no rule but the page's edges: the lines left once the rules are out (thick ones, with their
    fringe of rule ends), running on over RULE of the image and EDGE_SLIM times their width (a tall digit's body
    passes for a line, but not a slim one), or lying within EDGE_ZONE of its border (the page's edge beside the desk
    is slanted on a photo seen askew, and the steps of a slanted line part it). Taken away by the
    opening of every line's median thickness, desk bands included: a digit's bold stroke keeps what is thicker."""
    count, parts, stats, _ = cv2.connectedComponentsWithStats(lines.astype(np.uint8), connectivity=8)
    start, size, side = stats[:, 1 - axis], stats[:, cv2.CC_STAT_WIDTH + 1 - axis], lines.shape[axis]
    near = (start + size <= EDGE_ZONE * side) | (start >= (1 - EDGE_ZONE) * side)
    length = stats[:, cv2.CC_STAT_WIDTH + axis]
    edges = np.flatnonzero(((length >= RULE * long_side) & (length >= EDGE_SLIM * size)) | near)
    return np.isin(parts, edges[edges > 0])


def grown(mask: np.ndarray) -> np.ndarray:
    """A mask one pixel wider all round (a line's blurred edge with it)."""
    return cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def rule_spans(mask: np.ndarray, across: int, edge: np.ndarray, thin: float) -> tuple[np.ndarray, list[int]]:
    """The rules in a mask of long lines, labelled, and each one's opening length across it (label k + 1 at k).

    A rule is the lines' thin runs along `across` (0: down the columns), joined: no run thicker than `thin` (a bold
    digit's stroke on a close-up, long enough to pass for a line, or a digit's bold stroke lying along a rule), none
    that reaches the photo's `edge` (the desk beside the page, which runs along the edge and would join every rule it
    meets into one). Its opening is RULE_ACROSS times its thickness, the median length of its runs: a stroke along it
    thickens a few runs only.
    """
    rows, starts, ends = _runs(mask, across)
    shape, n = np.moveaxis(mask, across, -1).shape, mask.shape[across]
    out = np.pad(np.moveaxis(edge, across, -1).reshape(-1, n), [(0, 0), (1, 1)], constant_values=True)
    thin_runs = (ends - starts <= thin) & ~out[rows, starts] & ~out[rows, ends + 1]
    painted = np.zeros((out.shape[0], n + 1), dtype=np.int32)
    painted[rows[thin_runs], starts[thin_runs]] = 1  # runs on a line are apart: no start is another's end
    painted[rows[thin_runs], ends[thin_runs]] = -1
    kept = np.moveaxis(np.cumsum(painted, axis=1)[:, :n].reshape(shape) > 0, -1, across)
    count, rules = cv2.connectedComponents(kept.astype(np.uint8), connectivity=8)
    run_rule = np.moveaxis(rules, across, -1).reshape(-1, n)[rows[thin_runs], starts[thin_runs]]
    lengths = (ends - starts)[thin_runs]
    ordered = lengths[np.lexsort((lengths, run_rule))]  # by rule, then by length: each rule's median in the middle
    runs = np.bincount(run_rule, minlength=count)[1:]
    first = np.cumsum(runs) - runs
    median = (ordered[first + (runs - 1) // 2] + ordered[first + runs // 2]) / 2
    spans = [int(np.ceil(RULE_ACROSS * m)) | 1 for m in median]
    return rules, spans


def thickness(mask: np.ndarray, across: int) -> float:
    """The median length of the mask's runs along `across` (0: down the columns, 1: along the rows): how thick
    lines running the other way are (a digit's ink or the desk on them is a few long runs among many)."""
    _, starts, ends = _runs(mask, across)
    return float(np.median(ends - starts)) if starts.size else 1.0


def _runs(mask: np.ndarray, across: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mask's runs along `across`: each one's line (the mask's 1-D slices along `across`, in row-major order),
    start and end (past its last pixel). Row-major: the k-th start and the k-th end are one run's."""
    lines = np.moveaxis(mask, across, -1).reshape(-1, mask.shape[across])
    steps = np.diff(np.pad(lines.astype(np.int8), [(0, 0), (1, 1)]), axis=1)
    rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)
    return rows, starts, ends
