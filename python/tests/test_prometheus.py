"""Nexus metrics read back through a real Prometheus.

Starts `nexus serve` on simulated backends (`--workload data/workloads/traffic.yaml`, no model files) with
`--metrics-listen`, starts Debian's `prometheus` with deploy/prometheus.yml (its target and scrape interval
rewritten to this test's), sends requests with `nexus bench`, and reads back through Prometheus's HTTP API
(/api/v1/query) a request counter equal to what the bench sent. Also checks that the metric families a live
/metrics scrape exports are exactly those docs/metrics.md lists (deploy/check_dashboard.py checks the
dashboard against that list).

Needs: the nexus binary (env NEXUS_BIN, default .build/debug/nexus) and `prometheus` on PATH (env
PROMETHEUS_BIN). 127.0.0.1 only; every wait is a bounded poll.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NEXUS_BIN = os.path.join(ROOT, os.environ.get("NEXUS_BIN", ".build/debug/nexus"))
PROMETHEUS_BIN = os.environ.get("PROMETHEUS_BIN", shutil.which("prometheus") or "/usr/bin/prometheus")
WORKLOAD = os.path.join(ROOT, "data/workloads/traffic.yaml")
METRICS_DOC = os.path.join(ROOT, "docs/metrics.md")

START_TIMEOUT_S = 60.0     # nexus serve planned and serving; prometheus answering
SCRAPE_TIMEOUT_S = 60.0    # the counter reaching Prometheus
POLL_S = 0.2               # poll interval while waiting for a state (never a synchronisation by itself)
BENCH_RATE = 40
BENCH_DURATION_S = 2


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout_s=2.0):
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return response.read().decode()


def poll(what, timeout_s, probe):
    """Calls probe() until it returns something truthy (returned) or timeout_s passes (AssertionError)."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception as error:  # not up yet: connection refused, bad JSON mid-start
            last_error = error
        time.sleep(POLL_S)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last error: {last_error})")


def exported_families(text):
    """Metric family names of a Prometheus text exposition: from `# TYPE` lines."""
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def scraped_sum(text, name, label):
    """The sum of a metric's samples carrying `label` in a Prometheus text exposition."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and label in line.split("}")[0]:
            total += float(line.rsplit(" ", 1)[1])
    return total


def documented_families(path=METRICS_DOC):
    """Metric names docs/metrics.md lists: the first column of its tables, `nexus_...` in backticks."""
    names = set()
    with open(path) as doc:
        for line in doc:
            match = re.match(r"\|\s*`(nexus_[a-z0-9_]+)`", line)
            if match:
                names.add(match.group(1))
    return names


def prometheus_config(metrics_port):
    """deploy/prometheus.yml with the test's target and a 1 s scrape interval."""
    with open(os.path.join(ROOT, "deploy/prometheus.yml")) as source:
        text = source.read()
    assert "127.0.0.1:9464" in text and "scrape_interval: 5s" in text, "deploy/prometheus.yml changed shape"
    return text.replace("127.0.0.1:9464", f"127.0.0.1:{metrics_port}").replace("scrape_interval: 5s", "scrape_interval: 1s")


class PrometheusScrapeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="nexus-prometheus-")
        cls.processes = []
        cls.grpc_port, cls.metrics_port, cls.prometheus_port = free_port(), free_port(), free_port()
        cls.serve_log = os.path.join(cls.work, "serve.log")
        cls.start(["nexus", NEXUS_BIN, "serve", "--workload", WORKLOAD, "--backends", "2", "--time-scale", "20",
                   "--listen", f"127.0.0.1:{cls.grpc_port}", "--metrics-listen", f"127.0.0.1:{cls.metrics_port}",
                   "--beacon-ms", "500"], cls.serve_log)
        config = os.path.join(cls.work, "prometheus.yml")
        with open(config, "w") as out:
            out.write(prometheus_config(cls.metrics_port))
        cls.start(["prometheus", PROMETHEUS_BIN, f"--config.file={config}",
                   f"--storage.tsdb.path={os.path.join(cls.work, 'tsdb')}",
                   f"--web.listen-address=127.0.0.1:{cls.prometheus_port}"],
                  os.path.join(cls.work, "prometheus.log"))
        poll("nexus serve to plan and serve", START_TIMEOUT_S, lambda: "frontend: serving applications" in cls.log())
        poll("/metrics", START_TIMEOUT_S, lambda: http_get(cls.metrics_url()))
        poll("prometheus to answer", START_TIMEOUT_S, lambda: http_get(f"{cls.prometheus_url()}/-/ready"))

    @classmethod
    def start(cls, argv, log_path):
        with open(log_path, "w") as log:
            cls.processes.append((argv[0], subprocess.Popen(argv[1:], stdout=log, stderr=subprocess.STDOUT), log_path))

    @classmethod
    def tearDownClass(cls):
        for _, process, _ in reversed(cls.processes):
            process.send_signal(signal.SIGTERM)
        for name, process, _ in cls.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        if os.environ.get("NEXUS_TEST_KEEP_LOGS"):
            print(f"logs kept in {cls.work}")
        else:
            shutil.rmtree(cls.work, ignore_errors=True)

    @classmethod
    def log(cls):
        with open(cls.serve_log) as log:
            return log.read()

    @classmethod
    def metrics_url(cls):
        return f"http://127.0.0.1:{cls.metrics_port}/metrics"

    @classmethod
    def prometheus_url(cls):
        return f"http://127.0.0.1:{cls.prometheus_port}"

    def query(self, expression):
        """The value of an instant query with one result, else None."""
        url = f"{self.prometheus_url()}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
        answer = json.loads(http_get(url))
        self.assertEqual(answer["status"], "success", answer)
        result = answer["data"]["result"]
        return float(result[0]["value"][1]) if len(result) == 1 else None

    def bench(self):
        out = subprocess.run([NEXUS_BIN, "bench", "--target", f"127.0.0.1:{self.grpc_port}", "--workload", WORKLOAD,
                              "--time-scale", "20", "--rate", str(BENCH_RATE), "--duration", str(BENCH_DURATION_S),
                              "--warmup", "0", "--json"], capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def test_request_counter_read_back_through_prometheus_equals_requests_sent(self):
        before = scraped_sum(http_get(self.metrics_url()), "nexus_frontend_requests_total", 'application="traffic"')
        report = self.bench()
        sent, ok = report["sent"], report["completedOK"]
        self.assertGreater(sent, 0, report)
        print(f"\nbench: sent {sent}, OK {ok}, errors {report['errors']}")
        expected = before + sent
        seen = poll(f"Prometheus to read {expected:.0f} requests", SCRAPE_TIMEOUT_S, lambda: (
            self.query('sum(nexus_frontend_requests_total{application="traffic"})') == expected and expected))
        print(f"prometheus: sum(nexus_frontend_requests_total{{application=\"traffic\"}}) = {seen:.0f}")
        ok_seen = self.query('sum(nexus_frontend_requests_total{application="traffic",outcome="ok"})')
        print(f'prometheus: nexus_frontend_requests_total{{application="traffic",outcome="ok"}} = {ok_seen:.0f}')
        self.assertGreaterEqual(ok_seen, ok)
        self.assertEqual(self.query('up{job="nexus"}'), 1.0)
        # Every request is in the latency histogram, and the backends batched.
        self.assertEqual(self.query('sum(nexus_frontend_request_duration_seconds_count{application="traffic"})'), expected)
        self.assertGreater(self.query("sum(nexus_backend_batch_size_count)"), 0)
        self.assertGreaterEqual(self.query("nexus_scheduler_gpus_planned"), 1)

    def test_scrape_exports_exactly_the_documented_metrics(self):
        self.bench()   # so that every per-session and per-stage family has been made
        text = http_get(self.metrics_url())
        exported = {name for name in exported_families(text) if name.startswith("nexus_")}
        documented = documented_families()
        self.assertEqual(sorted(exported - documented), [], "exported but missing from docs/metrics.md")
        self.assertEqual(sorted(documented - exported), [], "in docs/metrics.md but not exported")
        if os.environ.get("NEXUS_METRICS_SAMPLE"):
            with open(os.environ["NEXUS_METRICS_SAMPLE"], "w") as out:
                out.write(text)


if __name__ == "__main__":
    unittest.main()
