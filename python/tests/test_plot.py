"""python/plot.py on real `nexus simulate --json` output: each mode (maxrate, cdf, timeline) writes a valid PNG,
new policy names and a policy with no passing rate are drawn, the latency-histogram decoding matches
NexusCore's LatencyHistogram, and bad input ends with exit status 2 and a message naming the file (no traceback).

Needs: the nexus binary (env NEXUS_BIN, default .build/debug/nexus) and matplotlib in the interpreter that runs
the test (Debian: apt-get install -y python3-matplotlib); without matplotlib the plotting tests are skipped and
the bad-input tests still run. About 15 s with a debug build (three short simulations, run side by side).

    NEXUS_BIN=.build/debug/nexus /usr/bin/python3 -m unittest python/tests/test_plot.py -v
    NEXUS_BIN=.build/debug/nexus /usr/bin/python3 -m pytest python/tests/test_plot.py -v    # same tests
"""
import copy
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
import plot  # noqa: E402  (no matplotlib at import time)


def _path(value):
    """A path from the environment: as given when it exists (relative to the working directory), else
    relative to the repository root."""
    if os.path.isabs(value) or os.path.exists(value):
        return os.path.abspath(value)
    return os.path.join(ROOT, value)


NEXUS_BIN = _path(os.environ.get("NEXUS_BIN", ".build/debug/nexus"))
PLOT = os.path.join(ROOT, "python", "plot.py")
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
NEEDS_MATPLOTLIB = "matplotlib missing in this interpreter (Debian: apt-get install -y python3-matplotlib)"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SIMULATE_TIMEOUT_S = 120

# Short runs: seconds each on a debug build. The timeline run spans three 10 s buckets (the last one partial).
SIMULATIONS = {
    "maxrate": ["--workload", "data/workloads/game.yaml", "--policy", "nexus", "--policy", "triton-like",
                "--find-max-rate", "--precision", "0.25", "--duration", "1"],
    "cdf": ["--workload", "data/workloads/game.yaml", "--policy", "nexus", "--policy", "triton-like",
            "--duration", "1"],
    "timeline": ["--workload", "data/workloads/mixed.yaml", "--policy", "nexus", "--policy", "triton-like",
                 "--duration", "25", "--rate", "4000"],
}


class PlotTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(NEXUS_BIN, os.X_OK):
            raise AssertionError(f"no nexus binary at {NEXUS_BIN}: run `swift build` or set NEXUS_BIN")
        cls.dir = tempfile.mkdtemp(prefix="nexus-plot-test-")
        cls.json = {}
        running = {}
        for name, args in SIMULATIONS.items():
            path = os.path.join(cls.dir, f"{name}.json")
            out, err = open(path, "w"), open(path + ".err", "w")
            running[name] = (subprocess.Popen([NEXUS_BIN, "simulate", *args, "--json"], cwd=ROOT, stdout=out,
                                              stderr=err), path, out, err)
        for name, (process, path, out, err) in running.items():
            try:
                rc = process.wait(timeout=SIMULATE_TIMEOUT_S)
            finally:
                out.close()
                err.close()
            with open(path + ".err") as f:
                stderr = f.read()
            if rc != 0:
                raise AssertionError(f"nexus simulate {' '.join(SIMULATIONS[name])} --json: exit {rc}\n{stderr}")
            cls.json[name] = path

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "dir") and not os.environ.get("NEXUS_TEST_KEEP_LOGS"):
            shutil.rmtree(cls.dir, ignore_errors=True)

    # -----------------------------------------------------------------------------------------------------

    def run_plot(self, *args):
        env = dict(os.environ, MPLCONFIGDIR=os.path.join(self.dir, "mplconfig"))
        return subprocess.run([sys.executable, PLOT, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)

    def assert_png(self, path, min_side=200):
        self.assertTrue(os.path.isfile(path), f"{path} was not written")
        with open(path, "rb") as f:
            data = f.read()
        self.assertGreater(len(data), 0, f"{path} is empty")
        self.assertEqual(data[:8], PNG_MAGIC, f"{path} is not a PNG")
        self.assertEqual(data[12:16], b"IHDR", f"{path}: no IHDR chunk first")
        width, height = struct.unpack(">II", data[16:24])
        self.assertGreaterEqual(min(width, height), min_side, f"{path}: {width}x{height}")

    def plot_ok(self, mode, name, *inputs):
        out = os.path.join(self.dir, "png", name)
        result = self.run_plot(mode, out, *inputs)
        self.assertEqual(result.returncode, 0, f"plot.py {mode}: exit {result.returncode}\n{result.stderr}")
        self.assertEqual(result.stdout.strip(), out)
        self.assert_png(out)
        return out

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(data if isinstance(data, str) else json.dumps(data))
        return path

    def load(self, name):
        with open(self.json[name]) as f:
            return json.load(f)

    # -----------------------------------------------------------------------------------------------------

    @unittest.skipUnless(HAVE_MATPLOTLIB, NEEDS_MATPLOTLIB)
    def test_maxrate_groups_files_and_draws_new_policies_and_none(self):
        report = self.load("maxrate")
        self.assertEqual([o["policy"] for o in report["outcomes"]], ["nexus", "triton-like"])
        self.assertTrue(all(o.get("maxRatePerSecond") for o in report["outcomes"]), report["outcomes"])
        # A second group as another arrival would give it: policies the script has never heard of, one of them
        # with no passing rate (what `nexus simulate` writes then: no maxRatePerSecond, no result).
        other = copy.deepcopy(report)
        other["arrival"] = "bursty (gamma, cv 2.0)"                 # newer binaries write these two at the top
        other["capacityBoundPerSecond"] = 1.2 * other["outcomes"][0]["maxRatePerSecond"]
        renamed = copy.deepcopy(other["outcomes"][0])
        renamed["policy"] = "symphony-like"
        renamed["result"]["arrival"] = "bursty (gamma, cv 2.0)"
        failed = {"policy": "shepherd-like", "trials": other["outcomes"][1]["trials"]}
        other["outcomes"] = [renamed, other["outcomes"][1], failed]
        self.plot_ok("maxrate", "maxrate.png", self.json["maxrate"], self.write("maxrate-other.json", other))
        # One file alone, every policy failing: still a figure (all "none").
        none = copy.deepcopy(report)
        for outcome in none["outcomes"]:
            outcome.pop("maxRatePerSecond")
            outcome.pop("result")
        self.plot_ok("maxrate", "maxrate-none.png", self.write("maxrate-none.json", none))

    @unittest.skipUnless(HAVE_MATPLOTLIB, NEEDS_MATPLOTLIB)
    def test_cdf_one_line_per_policy(self):
        report = self.load("cdf")
        self.assertEqual([r["policy"] for r in report["results"]], ["nexus", "triton-like"])
        self.plot_ok("cdf", "cdf.png", self.json["cdf"])
        self.plot_ok("cdf", "cdf-slo.png", self.json["cdf"], "--slo-ms", "8")

    @unittest.skipUnless(HAVE_MATPLOTLIB, NEEDS_MATPLOTLIB)
    def test_cdf_from_a_latency_histogram(self):
        report = self.load("cdf")
        for k, result in enumerate(report["results"]):
            counts = {}
            for i in range(2000):
                value_ns = 2_000_000 + 17_000 * i * (k + 1)
                bucket = plot.histogram_bucket(value_ns)
                counts[bucket] = counts.get(bucket, 0) + 1
            if k == 0:
                result["total"]["latencyHistogram"] = {"buckets": sorted([b, c] for b, c in counts.items())}
            else:
                dense = [0] * plot.HISTOGRAM_BUCKETS
                for b, c in counts.items():
                    dense[b] = c
                result["total"]["latencyHistogram"] = {"counts": dense}
            result["total"]["latencySLOMs"] = 8
        self.plot_ok("cdf", "cdf-histogram.png", self.write("cdf-histogram.json", report))

    @unittest.skipUnless(HAVE_MATPLOTLIB, NEEDS_MATPLOTLIB)
    def test_timeline_gpus_and_misses_over_time(self):
        report = self.load("timeline")
        for result in report["results"]:
            self.assertEqual([b["startSeconds"] for b in result["timeline"]], [0, 10, 20])
            self.assertTrue(result["epochLog"])
        self.plot_ok("timeline", "timeline.png", self.json["timeline"])

    def test_histogram_decoding_matches_latency_histogram(self):
        # Every p50Ms / p99Ms nexus printed is the representative of the bucket it falls in (Swift's
        # quantileNs returns representatives, capped by the largest value): the decoding agrees with Swift.
        values = set()
        for name in ("cdf", "timeline"):
            for result in self.load(name)["results"]:
                for application in result["applications"] + [result["total"]]:
                    values.update(round(application[k] * 1e6) for k in ("p50Ms", "p99Ms") if application[k])
        self.assertGreater(len(values), 5)
        for ns in values:
            self.assertEqual(plot.histogram_representative_ns(plot.histogram_bucket(ns)), ns, ns)
        # Exact below 128 ns; then contiguous buckets, 64 per power of two, representative inside.
        for ns in range(128):
            self.assertEqual(plot.histogram_bucket(ns), ns)
            self.assertEqual(plot.histogram_representative_ns(ns), ns)
        previous_end = 128
        for index in range(128, 64 * 40):
            shift = index // 64 - 1
            start, end = (index - 64 * shift) << shift, (index - 64 * shift + 1) << shift
            self.assertEqual(start, previous_end)
            self.assertEqual((plot.histogram_bucket(start), plot.histogram_bucket(end - 1)), (index, index))
            self.assertTrue(start <= plot.histogram_representative_ns(index) < end)
            previous_end = end
        self.assertLess(plot.histogram_bucket(2 ** 63 - 1), plot.HISTOGRAM_BUCKETS)
        self.assertEqual([plot.quantile_of_key(k) for k in ("p50Ms", "p99Ms", "p999Ms", "p99.9Ms", "meanMs")],
                         [0.5, 0.99, 0.999, 0.999, None])

    def test_malformed_json_exits_2_naming_the_file(self):
        bad = self.write("truncated.json", '{"results": [{"policy": "nexus", ')
        for mode in ("maxrate", "cdf", "timeline"):
            out = os.path.join(self.dir, "png", f"bad-{mode}.png")
            result = self.run_plot(mode, out, bad)
            self.assertEqual(result.returncode, 2, f"{mode}: {result.stderr}")
            self.assertIn(bad, result.stderr)
            self.assertIn("not valid JSON", result.stderr)
            self.assertNotIn("Traceback", result.stderr)
            self.assertFalse(os.path.exists(out), f"{mode}: wrote {out} from bad input")
        missing = os.path.join(self.dir, "no-such-file.json")
        result = self.run_plot("cdf", os.path.join(self.dir, "x.png"), missing)
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{missing}: no such file", result.stderr)

    def test_wrong_shape_exits_2_saying_what_is_missing(self):
        cases = [
            # (mode, input, what the message must say)
            ("maxrate", self.json["cdf"], "no 'outcomes'"),
            ("cdf", self.json["maxrate"], "no 'results'"),
        ]
        report = self.load("timeline")
        del report["results"][1]["timeline"]
        cases.append(("timeline", self.write("no-timeline.json", report), "results[1].timeline is missing"))
        report = self.load("cdf")
        report["results"][0]["total"]["requests"] = "many"
        cases.append(("cdf", self.write("bad-requests.json", report), "results[0].total.requests is a string"))
        report = self.load("maxrate")
        report["outcomes"][0]["maxRatePerSecond"] = -5
        cases.append(("maxrate", self.write("negative.json", report), "outcomes[0].maxRatePerSecond is -5"))
        report = self.load("maxrate")  # the shape of --find-min-gpus: outcomes too, but no max rate in them
        for outcome in report["outcomes"]:
            outcome["minGPUs"] = 12
            del outcome["maxRatePerSecond"]
        cases.append(("maxrate", self.write("min-gpus.json", report), "--find-min-gpus"))
        for mode, path, message in cases:
            result = self.run_plot(mode, os.path.join(self.dir, "png", "wrong.png"), path)
            self.assertEqual(result.returncode, 2, f"{mode} {path}: {result.stderr}")
            self.assertIn(path, result.stderr)
            self.assertIn(message, result.stderr)
            self.assertNotIn("Traceback", result.stderr)


if __name__ == "__main__":
    unittest.main()
