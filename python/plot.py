#!/usr/bin/env python3
"""Turn `nexus simulate --json` output into PNG figures (matplotlib, Agg backend; no display needed).

    python3 python/plot.py maxrate  OUT.png FILE.json [FILE.json ...]
    python3 python/plot.py cdf      OUT.png FILE.json [--slo-ms MS]
    python3 python/plot.py timeline OUT.png FILE.json

maxrate   Inputs: `nexus simulate --find-max-rate --json`, one file per workload (or per workload and arrival
          process). A grouped bar chart: one group per file, one bar per policy, the bar's height the highest
          total rate (requests/s) at which at least the file's targetFraction of requests finished within
          their SLO. A policy that passed at no rate tried is drawn as 0 and labelled "none". A dashed line
          over a group marks the file's capacityBoundPerSecond when it has one.
cdf       Input: `nexus simulate --json` (one or several policies). One latency CDF line per policy for the
          application "total" (completed requests; dropped ones have no latency), x in ms. The CDF comes from
          the application's latency histogram when the JSON carries one; otherwise from the quantiles it does
          carry (p50Ms, p99Ms, any other pNNMs), drawn as points and the title says so. `nexus simulate
          --json` carries the total's histogram (total.latencyHistogram, decoded points). A vertical line marks
          the SLO when --slo-ms is given or the JSON has latencySLOMs / sloMs for "total" or the run
          (`nexus simulate` writes total.latencySLOMs when every application shares one SLO).
timeline  Input: `nexus simulate --json` (meant for the `mixed` workload; any works). Two panels over simulated
          seconds: GPUs in use (the plan in force, from epochLog; else each timeline bucket's most GPUs) and
          SLO misses (late + dropped) per timeline bucket (by arrival time); one line per policy.

Policies are whatever names the JSON holds; each keeps one colour per figure, in order of first appearance.
Every figure is labelled SIMULATED when the JSON says it is.

Latency histogram (cdf): an application record's "latencyHistogram" (or "histogram") may be
  {"buckets": [[index, count], ...]}   or {"buckets": [{"index": i, "count": n}, ...]}  (sparse), or
  {"counts": [n0, n1, ...]}                                                           (dense, by index),
where an index is a bucket of NexusCore's LatencyHistogram (exact below 128 ns, then 64 buckets per power of
two; each bucket drawn at its representative value, as the Swift quantiles are, capped by "maxNs" if given),
or a list of already decoded points [{"ms": x, "count": n}, ...].

Exit status: 0 written; 2 bad arguments or input (the message names the file and what is missing or wrong);
1 matplotlib missing (Debian: apt-get install -y python3-matplotlib).
"""
import argparse
import json
import math
import os
import re
import sys

# ---------------------------------------------------------------------------------------------------------
# Errors


class InputError(Exception):
    """Bad input or arguments: reported as one line, exit status 2."""


class SetupError(Exception):
    """The environment lacks something (matplotlib): exit status 1."""


def _where(*keys):
    """A JSON location such as results[1].total.p50Ms."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out or "the top level"


def _type_name(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a JSON file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text (expected the JSON of `nexus simulate --json`)") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    if not text.strip():
        raise InputError(f"{path}: empty file (expected the JSON of `nexus simulate --json`)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); "
                         "was it written with `nexus simulate ... --json`?") from None


class Reader:
    """Typed access to one input file's JSON; every failure names the file and the JSON location."""

    def __init__(self, path, kind):
        self.path = path
        self.kind = kind  # what the file should be, for messages
        self.data = load_json(path)

    def fail(self, message):
        raise InputError(f"{self.path}: {message} (expected {self.kind})")

    def get(self, obj, keys, key, want, optional=False):
        """obj[key] checked against want: 'object', 'list', 'string', 'number' (finite, >= 0), 'int'."""
        where = _where(*keys, key)
        if not isinstance(obj, dict):
            self.fail(f"{_where(*keys)} is {_type_name(obj)}, not an object")
        if key not in obj or obj[key] is None:
            if optional:
                return None
            self.fail(f"{where} is missing" if key not in obj else f"{where} is null")
        value = obj[key]
        if want == "object" and isinstance(value, dict):
            return value
        if want == "list" and isinstance(value, list):
            return value
        if want == "string" and isinstance(value, str):
            return value
        if want in ("number", "int") and isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value) or value < 0:
                self.fail(f"{where} is {value}, not a finite number >= 0")
            if want == "int" and value != int(value):
                self.fail(f"{where} is {value}, not a whole number")
            return value
        wanted = {"object": "an object", "list": "a list", "string": "a string"}.get(want, "a number")
        self.fail(f"{where} is {_type_name(value)}, not {wanted}")


def _simulated(reader):
    return reader.data.get("simulated") is True if isinstance(reader.data, dict) else False


# ---------------------------------------------------------------------------------------------------------
# Colours: one per policy name, in order of first appearance (never a fixed list of policies)

_PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
]
_DASHES = ["-", "--", "-.", ":"]
_HATCHES = ["", "//", "..", "xx"]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "<", ">", "p", "h", "*"]


class PolicyStyles:
    def __init__(self):
        self.order = []

    def add(self, policy):
        if policy not in self.order:
            self.order.append(policy)
        return self.order.index(policy)

    def colour(self, policy):
        return _PALETTE[self.add(policy) % len(_PALETTE)]

    def dash(self, policy):
        return _DASHES[(self.add(policy) // len(_PALETTE)) % len(_DASHES)]

    def hatch(self, policy):
        return _HATCHES[(self.add(policy) // len(_PALETTE)) % len(_HATCHES)]


def human_rate(value):
    """68750 -> '68.8k', 5156.25 -> '5.16k', 950 -> '950'."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


# ---------------------------------------------------------------------------------------------------------
# maxrate


def read_maxrate(path):
    r = Reader(path, "the JSON of `nexus simulate --find-max-rate --json`")
    top = r.data
    if isinstance(top, dict) and "outcomes" not in top and "results" in top:
        r.fail("has 'results' but no 'outcomes': this is a plain `nexus simulate --json` run; "
               "the maxrate plot needs --find-max-rate")
    outcomes = r.get(top, [], "outcomes", "list")
    if not outcomes:
        r.fail("outcomes is empty: no policy was run")
    if any(isinstance(o, dict) and "minGPUs" in o and "maxRatePerSecond" not in o for o in outcomes):
        r.fail("its outcomes have minGPUs, not maxRatePerSecond: this is --find-min-gpus output; "
               "the maxrate plot needs --find-max-rate")
    workload = r.get(top, [], "workload", "string")
    gpus = r.get(top, [], "gpus", "int", optional=True)
    target = r.get(top, [], "targetFraction", "number", optional=True)
    bound = r.get(top, [], "capacityBoundPerSecond", "number", optional=True)
    arrival = r.get(top, [], "arrival", "string", optional=True)
    rates = []
    for i, outcome in enumerate(outcomes):
        policy = r.get(outcome, ["outcomes", i], "policy", "string")
        rate = r.get(outcome, ["outcomes", i], "maxRatePerSecond", "number", optional=True)
        result = r.get(outcome, ["outcomes", i], "result", "object", optional=True)
        if result is not None and arrival is None:
            arrival = r.get(result, ["outcomes", i, "result"], "arrival", "string", optional=True)
        if any(p == policy for p, _ in rates):
            print(f"plot.py: warning: {path}: policy '{policy}' appears twice; the first is drawn", file=sys.stderr)
            continue
        rates.append((policy, rate))
    return {"path": path, "workload": workload, "arrival": arrival, "gpus": gpus, "target": target,
            "bound": bound, "rates": rates, "simulated": _simulated(r)}


def plot_maxrate(out, paths):
    groups = [read_maxrate(p) for p in paths]
    labels = []
    for g in groups:
        parts = [g["workload"]] + ([g["arrival"]] if g["arrival"] else []) + \
                ([f"{int(g['gpus'])} GPUs"] if g["gpus"] is not None else [])
        labels.append("\n".join(parts))
    same = [labels.count(label) > 1 for label in labels]  # files that would read the same: name the file too
    labels = [f"{label}\n({os.path.basename(g['path'])})" if twin else label
              for label, g, twin in zip(labels, groups, same)]
    targets = {g["target"] for g in groups}
    if len(targets) > 1:
        labels = [f"{l}\n≥{g['target']:.4g} within SLO" if g["target"] is not None else l
                  for l, g in zip(labels, groups)]

    styles = PolicyStyles()
    for g in groups:
        for policy, _ in g["rates"]:
            styles.add(policy)
    policies = styles.order
    plt = _pyplot()

    # Each group's bars side by side in the policies' order of first appearance, centred on the group; one bar
    # width for all groups (a file that ran fewer policies has a narrower group, not gaps).
    n_groups = len(groups)
    n_slots = max(len(g["rates"]) for g in groups)
    width = 0.8 / n_slots
    fig_w = min(24.0, max(6.5, 2.0 + sum(0.45 * len(g["rates"]) + 0.6 for g in groups)))
    fig, ax = plt.subplots(figsize=(fig_w, 4.8))
    top = max([rate for g in groups for _, rate in g["rates"] if rate is not None] +
              [g["bound"] for g in groups if g["bound"] is not None] + [0])
    vertical = n_slots > 3
    bound_label = "capacity bound (every GPU busy at the best batch)"
    for gi, g in enumerate(groups):  # the file's capacityBoundPerSecond, when it has one
        if g["bound"] is not None:
            half = width * len(g["rates"]) / 2 + 0.04
            ax.hlines(g["bound"], gi - half, gi + half, colors="black", linestyles="--", linewidth=1.2,
                      label=bound_label, zorder=2.5)
            ax.text(gi + half, g["bound"], f" {human_rate(g['bound'])}", va="center", ha="left", fontsize=8)
            bound_label = None
    bars = {policy: ([], []) for policy in policies}
    for gi, g in enumerate(groups):
        present = sorted(g["rates"], key=lambda item: policies.index(item[0]))
        for slot, (policy, rate) in enumerate(present):
            x = gi + width * (slot - (len(present) - 1) / 2)
            bars[policy][0].append(x)
            bars[policy][1].append(rate or 0)
            ax.text(x, (rate or 0) + (top or 1) * 0.012, human_rate(rate) if rate is not None else "none",
                    ha="center", va="bottom", rotation=90 if vertical else 0, fontsize=8,
                    color="black" if rate is not None else "#444444",
                    fontstyle="normal" if rate is not None else "italic",
                    bbox=dict(facecolor="white", edgecolor="none", pad=0.3, alpha=0.85))
            if rate is None:  # no bar to colour: a cross in the policy's colour on the axis says whose "none"
                ax.plot([x], [0], marker="X", markersize=8, color=styles.colour(policy), clip_on=False, zorder=5)
    for policy in policies:
        xs, heights = bars[policy]
        ax.bar(xs, heights, width * 0.92, label=policy, color=styles.colour(policy), hatch=styles.hatch(policy),
               edgecolor="white" if not styles.hatch(policy) else "black", linewidth=0.5)
    ax.set_xticks(range(n_groups))
    ax.set_xticklabels(labels, fontsize=9)
    ax.set_xlim(-0.6, n_groups - 0.4)
    ax.set_ylim(0, (top or 1) * (1.28 if vertical else 1.15))
    ax.set_ylabel("max rate (requests/s)")
    ax.yaxis.set_major_formatter(_formatter(lambda v, _: human_rate(v) if v > 0 else "0"))
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    target = next(iter(targets)) if len(targets) == 1 else None
    title = f"Max rate with ≥{target * 100:.4g}% of requests within SLO" if target is not None else \
        "Max rate meeting each file's within-SLO target"
    if any(g["simulated"] for g in groups):
        title += " (SIMULATED)"
    ax.set_title(title)
    handles, names = ax.get_legend_handles_labels()
    order = [i for i, n in enumerate(names) if n in policies] + [i for i, n in enumerate(names) if n not in policies]
    ax.legend([handles[i] for i in order], [names[i] for i in order], title="policy", loc="upper left",
              bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    _save(fig, out, plt)


# ---------------------------------------------------------------------------------------------------------
# Latency histogram (NexusCore/Measuring/LatencyHistogram.swift)


def histogram_bucket(value_ns):
    """LatencyHistogram.bucket: the index of a value (for tests and checks)."""
    value = max(0, int(value_ns))
    if value < 128:
        return value
    shift = value.bit_length() - 1 - 6
    return 64 * shift + (value >> shift)


def histogram_representative_ns(index):
    """LatencyHistogram.representative: the middle of a bucket's range (what the Swift quantiles report)."""
    if index < 128:
        return index
    shift = index // 64 - 1
    top = index - 64 * shift
    return (top << shift) + ((1 << shift) // 2)


HISTOGRAM_BUCKETS = 64 * 58 + 128


def decode_histogram(r, hist, keys):
    """[(ms, count)] sorted by ms, from one of the encodings in the module docstring."""
    def index_count(field, i, index, count):
        for value, what in ((index, "index"), (count, "count")):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                r.fail(f"{_where(*keys, field, i)}: {what} {value!r} is not a whole number >= 0")
        if index >= HISTOGRAM_BUCKETS:
            r.fail(f"{_where(*keys, field, i)}: bucket index {index} is past the last ({HISTOGRAM_BUCKETS - 1})")
        return index, count

    pairs = None
    if isinstance(hist, dict):
        cap_ns = hist.get("maxNs") if isinstance(hist.get("maxNs"), (int, float)) else None
        if isinstance(hist.get("buckets"), list):
            pairs = []
            for i, item in enumerate(hist["buckets"]):
                if isinstance(item, list) and len(item) == 2:
                    pairs.append(index_count("buckets", i, *item))
                elif isinstance(item, dict) and "count" in item and ("index" in item or "bucket" in item):
                    pairs.append(index_count("buckets", i, item.get("index", item.get("bucket")), item["count"]))
                else:
                    r.fail(f"{_where(*keys, 'buckets', i)} is neither [index, count] nor {{index, count}}")
        elif isinstance(hist.get("counts"), list):
            pairs = [index_count("counts", i, i, c) for i, c in enumerate(hist["counts"]) if c != 0]
        else:
            r.fail(f"{_where(*keys)} has neither 'buckets' nor 'counts'")
        points = {}
        for index, count in pairs:
            ns = histogram_representative_ns(index)
            if cap_ns is not None:
                ns = min(ns, cap_ns)
            points[ns / 1e6] = points.get(ns / 1e6, 0) + count
        return sorted(points.items())
    if isinstance(hist, list):
        points = []
        for i, item in enumerate(hist):
            ms = item.get("ms", item.get("latencyMs")) if isinstance(item, dict) else None
            count = item.get("count") if isinstance(item, dict) else None
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
                       for v in (ms, count)):
                r.fail(f"{_where(*keys, i)} is not {{\"ms\": number, \"count\": number}}")
            points.append((float(ms), count))
        return sorted(points)
    r.fail(f"{_where(*keys)} is {_type_name(hist)}, not a histogram object or list")


_QUANTILE_KEY = re.compile(r"^p(\d+(?:\.\d+)?)Ms$")


def quantile_of_key(key):
    """'p50Ms' -> 0.5, 'p99Ms' -> 0.99, 'p999Ms' -> 0.999, 'p99.9Ms' -> 0.999; None for other keys."""
    m = _QUANTILE_KEY.match(key)
    if not m:
        return None
    digits = m.group(1)
    if "." in digits or len(digits) <= 2:
        q = round(float(digits) / 100, 12)
    else:
        q = int(digits) / 10 ** len(digits)
    return q if 0 < q <= 1 else None


# ---------------------------------------------------------------------------------------------------------
# cdf


def _runs(r):
    top = r.data
    if isinstance(top, dict) and "results" not in top and "outcomes" in top:
        r.fail("has 'outcomes' but no 'results': this is `--find-max-rate` output; use the maxrate plot, "
               "or run `nexus simulate` without --find-max-rate")
    results = r.get(top, [], "results", "list")
    if not results:
        r.fail("results is empty: no policy was run")
    for i, result in enumerate(results):
        if not isinstance(result, dict):
            r.fail(f"{_where('results', i)} is {_type_name(result)}, not an object")
    return results


def _unique_labels(r, results):
    """Each result's legend name: its policy, made unique when a policy appears twice."""
    labels, seen = [], {}
    for i, result in enumerate(results):
        policy = r.get(result, ["results", i], "policy", "string")
        seen[policy] = seen.get(policy, 0) + 1
        labels.append(policy if seen[policy] == 1 else f"{policy} #{seen[policy]}")
    return labels


def _slo_of(r, result, total, i):
    for obj, keys in ((total, ["results", i, "total"]), (result, ["results", i])):
        for key in ("latencySLOMs", "sloMs"):
            value = r.get(obj, keys, key, "number", optional=True)
            if value is not None:
                return value
    return None


def plot_cdf(out, path, slo_ms=None):
    r = Reader(path, "the JSON of `nexus simulate --json`")
    results = _runs(r)
    labels = _unique_labels(r, results)
    series, slos = [], set()
    for i, (result, label) in enumerate(zip(results, labels)):
        total = r.get(result, ["results", i], "total", "object")
        keys = ["results", i, "total"]
        requests = r.get(total, keys, "requests", "int")
        within = r.get(total, keys, "withinSLO", "int")
        dropped = r.get(total, keys, "dropped", "int", optional=True)
        slo = _slo_of(r, result, total, i)
        if slo is not None:
            slos.add(slo)
        hist_key = next((k for k in ("latencyHistogram", "histogram") if total.get(k) is not None), None)
        points, quantiles = None, []
        if hist_key:
            points = [(ms, c) for ms, c in decode_histogram(r, total[hist_key], keys + [hist_key]) if c > 0]
        for key in total:
            q = quantile_of_key(key)
            if q is not None:
                value = r.get(total, keys, key, "number", optional=True)
                if value is not None:
                    quantiles.append((value, q, key[:-2]))
        quantiles.sort(key=lambda t: t[1])
        if points is None and not quantiles and requests > (dropped or 0):
            r.fail(f"{_where(*keys)} has no latency histogram and no pNNMs quantile (such as p50Ms)")
        series.append({"label": label, "policy": result["policy"], "points": points, "quantiles": quantiles,
                       "within": within / requests if requests else None, "dropped": dropped,
                       "requests": requests})
    if slo_ms is None and len(slos) == 1:
        slo_ms = slos.pop()

    styles = PolicyStyles()
    for s in series:
        styles.add(s["policy"])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    quantiles_only = any(not s["points"] and s["quantiles"] for s in series)
    xs_all = []
    for s in series:
        colour, dash = styles.colour(s["policy"]), styles.dash(s["policy"])
        text = s["label"]
        if s["within"] is not None:
            text += f": {s['within'] * 100:.2f}% within SLO"
        if s["quantiles"]:
            text += " (" + ", ".join(f"{name} {v:.3g} ms" for v, _, name in s["quantiles"]) + ")"
        if s["points"]:
            counts = sum(c for _, c in s["points"])
            xs, ys, seen = [], [], 0
            for ms, c in s["points"]:
                seen += c
                xs.append(ms)
                ys.append(seen / counts)
            xs_all += xs
            ax.step([xs[0]] + xs, [0] + ys, where="post", color=colour, linestyle=dash, linewidth=1.8, label=text)
        elif s["quantiles"]:
            xs = [v for v, _, _ in s["quantiles"]]
            ys = [q for _, q, _ in s["quantiles"]]
            xs_all += xs
            # Shapes differ and earlier policies are drawn larger, so that equal quantiles stay visible.
            k = styles.add(s["policy"])
            size = 7 + 6 * (len(styles.order) - 1 - k) / max(1, len(styles.order) - 1)
            ax.plot(xs, ys, color=colour, linestyle=":", marker=_MARKERS[k % len(_MARKERS)], markersize=size,
                    markeredgecolor="white", markeredgewidth=0.6, linewidth=1.2, label=text)
        else:
            ax.plot([], [], color=colour, label=text + " (no completed requests)")
    if slo_ms is not None:
        ax.axvline(slo_ms, color="black", linestyle="--", linewidth=1, alpha=0.7, label=f"SLO {slo_ms:g} ms")
        xs_all.append(slo_ms)
    positive = [x for x in xs_all if x > 0]
    if positive and max(positive) / min(positive) > 30:
        import matplotlib.ticker as ticker
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1, 2, 5)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    elif positive:
        ax.set_xlim(0, max(positive) * 1.08)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("end-to-end latency (ms)")
    ax.set_ylabel("fraction of completed requests ≤ x")
    ax.grid(alpha=0.3)
    first = results[0]
    workload = first.get("workload") if isinstance(first.get("workload"), str) else "?"
    arrival = first.get("arrival") if isinstance(first.get("arrival"), str) else None
    title = f"Latency CDF of 'total': {workload}" + (f", {arrival}" if arrival else "")
    if _simulated(r):
        title += " (SIMULATED)"
    if quantiles_only:
        title += "\nno latency histogram in the JSON: its quantiles only (points, not a full CDF)"
    ax.set_title(title, fontsize=10)
    ax.legend(loc="best", fontsize=8)
    _save(fig, out, plt)


# ---------------------------------------------------------------------------------------------------------
# timeline


def plot_timeline(out, path):
    r = Reader(path, "the JSON of `nexus simulate --json`")
    results = _runs(r)
    labels = _unique_labels(r, results)
    series = []
    for i, (result, label) in enumerate(zip(results, labels)):
        keys = ["results", i]
        buckets = r.get(result, keys, "timeline", "list")
        if not buckets:
            r.fail(f"{_where(*keys, 'timeline')} is empty (no requests arrived)")
        duration = r.get(result, keys, "durationSeconds", "number", optional=True)
        starts, misses, bucket_gpus = [], [], []
        for b, bucket in enumerate(buckets):
            bk = keys + ["timeline", b]
            starts.append(r.get(bucket, bk, "startSeconds", "number"))
            misses.append(r.get(bucket, bk, "late", "int") + r.get(bucket, bk, "dropped", "int"))
            bucket_gpus.append(r.get(bucket, bk, "gpus", "int", optional=True))
        step = min((b - a for a, b in zip(starts, starts[1:]) if b > a), default=None)
        step = step or 10.0  # one bucket: RunStatistics.bucketNs
        end = duration if duration and duration > starts[-1] else starts[-1] + step
        epochs = r.get(result, keys, "epochLog", "list", optional=True) or []
        plan = []
        for e, epoch in enumerate(epochs):
            ek = keys + ["epochLog", e]
            plan.append((r.get(epoch, ek, "atSeconds", "number"), r.get(epoch, ek, "gpus", "int")))
        if not plan:
            if any(g is None for g in bucket_gpus):
                r.fail(f"{_where(*keys)} has no epochLog and {_where(*keys, 'timeline')} has no gpus")
            plan = list(zip(starts, bucket_gpus))
        plan.sort()
        series.append({"label": label, "policy": result["policy"], "starts": starts, "misses": misses,
                       "end": end, "plan": plan, "step": step})

    styles = PolicyStyles()
    for s in series:
        styles.add(s["policy"])
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 6.5), gridspec_kw={"height_ratios": [1, 1]})
    for k, s in enumerate(series):
        colour, dash = styles.colour(s["policy"]), styles.dash(s["policy"])
        # Earlier lines wider, so that policies with equal values stay visible on top of each other.
        width = 1.5 + 1.5 * (len(series) - 1 - k) / max(1, len(series) - 1)
        xs = [t for t, _ in s["plan"]] + [s["end"]]
        ys = [g for _, g in s["plan"]] + [s["plan"][-1][1]]
        top.step(xs, ys, where="post", color=colour, linestyle=dash, linewidth=width, label=s["label"])
        bottom.step(s["starts"] + [s["end"]], s["misses"] + [s["misses"][-1]], where="post", color=colour,
                    linestyle=dash, linewidth=width, label=s["label"])
    top.set_ylabel("GPUs in use (plan)")
    top.set_ylim(-0.5, max(g for s in series for _, g in s["plan"]) * 1.1 + 1)
    top.grid(alpha=0.3)
    steps = {s["step"] for s in series}
    per = f"per {steps.pop():g} s" if len(steps) == 1 else "per bucket"
    bottom.set_ylabel(f"SLO misses {per}\n(late + dropped, by arrival)")
    all_misses = [m for s in series for m in s["misses"]]
    positive = [m for m in all_misses if m > 0]
    if positive and max(positive) / min(positive) >= 100:
        bottom.set_yscale("symlog", linthresh=1)
        bottom.set_ylim(-0.1, max(positive) * 2)
    else:
        peak = max(all_misses + [1])
        bottom.set_ylim(-peak * 0.02, peak * 1.1)
    partial = [s for s in series if s["end"] - s["starts"][-1] < s["step"] - 1e-9]
    if partial:
        s = partial[0]
        bottom.annotate(f"last bucket: {s['end'] - s['starts'][-1]:g} s of {s['step']:g}", xy=(1, 0),
                        xycoords="axes fraction", xytext=(-4, 4), textcoords="offset points", ha="right",
                        va="bottom", fontsize=8, color="#555555")
    bottom.grid(alpha=0.3)
    bottom.set_xlabel("simulated seconds since the run's start")
    bottom.set_xlim(0, max(s["end"] for s in series))
    first = results[0]
    workload = first.get("workload") if isinstance(first.get("workload"), str) else "?"
    title = f"{workload}: GPUs and SLO misses over time"
    if _simulated(r):
        title += " (SIMULATED)"
    top.set_title(title)
    top.legend(title="policy", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    _save(fig, out, plt)


# ---------------------------------------------------------------------------------------------------------
# Output


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SetupError("matplotlib is missing: apt-get install -y python3-matplotlib (Debian; as root) "
                         "or pip install matplotlib") from None
    return plt


def _formatter(function):
    import matplotlib.ticker
    return matplotlib.ticker.FuncFormatter(function)


def _save(fig, out, plt):
    folder = os.path.dirname(os.path.abspath(out))
    try:
        os.makedirs(folder, exist_ok=True)
        fig.savefig(out, format="png", dpi=130, bbox_inches="tight")
    except OSError as e:
        raise InputError(f"{out}: cannot write the PNG: {e.strerror or e}") from None
    finally:
        plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="plot.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="The commands that regenerate each figure are in docs/plots.md.")
    modes = parser.add_subparsers(dest="mode", required=True, metavar="{maxrate,cdf,timeline}")
    p = modes.add_parser("maxrate", help="grouped bars: max rate per policy per workload/arrival",
                         description="Grouped bar chart from `nexus simulate --find-max-rate --json` files: one "
                                     "group per file, one bar per policy (max rate with >= target within SLO; "
                                     "'none' when no rate passed); a dashed line at the file's "
                                     "capacityBoundPerSecond when present.")
    p.add_argument("out", metavar="OUT.png", help="PNG to write (folders are created)")
    p.add_argument("files", metavar="FILE.json", nargs="+", help="`nexus simulate --find-max-rate --json` output")
    p = modes.add_parser("cdf", help="latency CDF of the 'total' application, one line per policy",
                         description="Latency CDF (ms) of the application 'total', one line per policy, from "
                                     "`nexus simulate --json`: from a latency histogram when the JSON has one, "
                                     "else from its quantiles (p50Ms, p99Ms, ...).")
    p.add_argument("out", metavar="OUT.png", help="PNG to write (folders are created)")
    p.add_argument("file", metavar="FILE.json", help="`nexus simulate --json` output")
    p.add_argument("--slo-ms", type=float, metavar="MS",
                   help="draw the SLO at MS (default: latencySLOMs/sloMs from the JSON when present; else none)")
    p = modes.add_parser("timeline", help="GPUs in use and SLO misses over time, one line per policy",
                         description="Two panels sharing simulated seconds, from `nexus simulate --json` (the "
                                     "mixed workload): GPUs in use (epochLog) and SLO misses (late + dropped) "
                                     "per timeline bucket, one line per policy.")
    p.add_argument("out", metavar="OUT.png", help="PNG to write (folders are created)")
    p.add_argument("file", metavar="FILE.json", help="`nexus simulate --json` output")
    args = parser.parse_args(argv)
    try:
        if args.mode == "maxrate":
            plot_maxrate(args.out, args.files)
        elif args.mode == "cdf":
            if args.slo_ms is not None and not (math.isfinite(args.slo_ms) and args.slo_ms > 0):
                raise InputError(f"--slo-ms must be a number > 0, got {args.slo_ms}")
            plot_cdf(args.out, args.file, args.slo_ms)
        else:
            plot_timeline(args.out, args.file)
    except InputError as e:
        print(f"plot.py: error: {e}", file=sys.stderr)
        return 2
    except SetupError as e:
        print(f"plot.py: error: {e}", file=sys.stderr)
        return 1
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
