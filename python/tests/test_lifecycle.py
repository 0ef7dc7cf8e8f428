"""Process edges of Nexus: graceful drain on SIGTERM under load, many calls on one connection, a message over
the size limit. Real processes on 127.0.0.1 on the SIMULATED runtime, driven by tritonclient[grpc] and grpcio.

- `nexus serve` and, separately, a frontend, a backend and the scheduler run as processes of their own get
  SIGTERM under a bounded open load: each exits with status 0, and every request sent gets exactly one
  answer, OK or an explicit error (UNAVAILABLE once the process drains, DEADLINE_EXCEEDED on early drop),
  never CANCELLED, never none; the requests in flight when the signal came are answered OK.
- 1,000 concurrent ModelInfer calls on one connection are all answered OK.
- A message over --max-message-mb is answered RESOURCE_EXHAUSTED, and the server keeps serving.
- Keepalive: a call waiting on a backend that stopped (SIGSTOP: its connections stay open, nothing answers) fails
  over within --keepalive-s + --keepalive-timeout-s, long before the scheduler could miss its beacons.

The model repository is made here: model files are empty (the simulated runtime loads nothing) and the
profiles are written so that a batch takes long enough (0.2-0.36 s) for requests to be in flight at SIGTERM.
Needs the nexus binary (env NEXUS_BIN, default .build/debug/nexus), numpy and tritonclient[grpc];
see python/tests/README.md.
"""
import functools
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # grpcio logs every GOAWAY of a draining server otherwise
import grpc  # noqa: E402
import numpy as np
import tritonclient.grpc as grpcclient
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cluster import NEXUS_BIN, ROOT, Process, free_ports  # noqa: E402  (the same process handling)

START_TIMEOUT_S = 60.0
POLL_S = 0.1
DRAIN_TIMEOUT_S = 20        # --drain-timeout-s given to every process
EXIT_TIMEOUT_S = 30.0       # a process must have exited this long after SIGTERM
LOAD_RATE = 100.0           # requests/s of the open load (one backend runs `slow` at up to 177/s)
LOAD_BEFORE_S = 3.0         # load before the signal
LOAD_AFTER_S = 1.5          # load after it (new requests, answered UNAVAILABLE or refused)
ACCEPTED_MARGIN_S = 0.3     # a request sent this long before the signal has reached the server
CLIENT_TIMEOUT_S = 30.0
CONCURRENT = 1000
MAX_MESSAGE_MB = 8          # --max-message-mb of the transport test (the default is 64)
BIG_INPUT = 1 << 19         # FP32 elements of `big`'s input: 2 MiB, so a few calls fill a message

ANSWERS = ("OK", "StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED")

# Latency (ms) per batch size of the two models; the planner and the simulated device both read them.
PROFILES = {
    "slow": [(1, 200), (2, 205), (4, 210), (8, 220), (16, 240), (32, 280), (64, 360)],
    "fast": [(1, 1), (2, 1.2), (4, 1.5), (8, 2), (16, 3), (32, 4), (64, 6)],
    "big": [(1, 1), (2, 1.2), (4, 1.5), (8, 2), (16, 3), (32, 4), (64, 6)],
}
INPUT_ELEMENTS = {"slow": 16, "fast": 16, "big": BIG_INPUT}
MODEL_YAML = """\
name: {name}
file: model.pt
input: {{name: input, dtype: FP32, shape: [{elements}]}}
maxBatch: 64
outputs:
  - {{name: scores, dtype: FP32, shape: [4]}}
"""
APP_YAML = """\
name: {name}
latencySLOMs: 3000
stages:
  - {{name: {name}, model: {name}}}
"""


def make_repository(folder):
    """Models `slow` and `fast` with simulated profiles `sim`, and one application per model."""
    repo, apps = os.path.join(folder, "repo"), os.path.join(folder, "apps")
    os.makedirs(apps)
    for name, rows in PROFILES.items():
        os.makedirs(os.path.join(repo, name, "profiles"))
        with open(os.path.join(repo, name, "model.yaml"), "w") as f:
            f.write(MODEL_YAML.format(name=name, elements=INPUT_ELEMENTS[name]))
        open(os.path.join(repo, name, "model.pt"), "wb").close()
        with open(os.path.join(repo, name, "profiles", "sim.csv"), "w") as f:
            f.write("model,input,batch,eager_median_ms,graph_median_ms,graph_p99_ms,peak_mem_mb,device\n")
            for batch, ms in rows:
                f.write(f"{name},{INPUT_ELEMENTS[name]},{batch},{ms},{ms},{ms},100,sim\n")
        with open(os.path.join(apps, f"{name}.yaml"), "w") as f:
            f.write(APP_YAML.format(name=name))
    return repo, apps


def serving_flags():
    return ["--drain-timeout-s", str(DRAIN_TIMEOUT_S), "--event-loop-threads", "1"]


def tensor():
    t = grpcclient.InferInput("input", [1, 16], "FP32")
    t.set_data_from_numpy(np.ones((1, 16), np.float32))
    return t


class OpenLoad:
    """An open-loop load on one application: a thread sends at a fixed rate whatever the answers do, through
    one tritonclient connection (async_infer); every send and every answer is recorded with its time."""

    def __init__(self, url, app, rate):
        self.url, self.app, self.interval = url, app, 1.0 / rate
        self.lock = threading.Lock()
        self.sent = {}          # id -> send time (monotonic)
        self.answers = {}       # id -> [(time, "OK" or status, message)]
        self.send_errors = []   # async_infer raised: the request never left
        self.stop_event = threading.Event()
        self.client = grpcclient.InferenceServerClient(url=url)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=10)

    def _answer(self, request_id, result, error):
        outcome = ("OK", "") if error is None else (error.status(), error.message() or "")
        with self.lock:
            self.answers.setdefault(request_id, []).append((time.monotonic(),) + outcome)

    def _run(self):
        data, n, next_at = tensor(), 0, time.monotonic()
        while not self.stop_event.is_set():
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop_event.wait(delay)
                continue
            request_id = f"{self.app}-{n}"
            n += 1
            next_at += self.interval
            with self.lock:
                self.sent[request_id] = time.monotonic()
            try:
                self.client.async_infer(self.app, [data], functools.partial(self._answer, request_id),
                                        request_id=request_id, client_timeout=CLIENT_TIMEOUT_S)
            except InferenceServerException as error:
                with self.lock:
                    self.send_errors.append((request_id, str(error)))

    def wait_for_answers(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(r in self.answers for r in self.sent):
                    break
            time.sleep(POLL_S)
        self.client.close()
        with self.lock:
            return dict(self.sent), {k: list(v) for k, v in self.answers.items()}

    def ok_count(self):
        with self.lock:
            return sum(1 for a in self.answers.values() if a[0][1] == "OK")


class StreamLoad:
    """The same open load on one ModelStreamInfer stream (grpcio, answers matched by the echoed id; an error
    is an in-stream error_message starting with the code's name); records how the stream itself ended."""

    def __init__(self, url, app, rate):
        self.app, self.interval = app, 1.0 / rate
        self.lock = threading.Lock()
        self.sent, self.answers = {}, {}
        self.stream_end = None      # (time, status name, details) once the stream ended
        self.outbox = queue.Queue()
        self.stop_event = threading.Event()
        self.channel = grpc.insecure_channel(url)
        stub = service_pb2_grpc.GRPCInferenceServiceStub(self.channel)
        self.responses = stub.ModelStreamInfer(iter(self.outbox.get, None))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.sender = threading.Thread(target=self._send, daemon=True)

    def start(self):
        self.reader.start()
        self.sender.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.sender.join(timeout=10)
        self.outbox.put(None)  # the client closes its side

    def _send(self):
        payload, n, next_at = np.ones(16, "<f4").tobytes(), 0, time.monotonic()
        while not self.stop_event.is_set():
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop_event.wait(delay)
                continue
            request = service_pb2.ModelInferRequest(model_name=self.app, id=f"stream-{n}")
            t = request.inputs.add()
            t.name, t.datatype = "input", "FP32"
            t.shape.extend([1, 16])
            request.raw_input_contents.append(payload)
            n += 1
            next_at += self.interval
            with self.lock:
                self.sent[request.id] = time.monotonic()
            self.outbox.put(request)

    def _read(self):
        try:
            for response in self.responses:
                status = response.error_message.split(":", 1)[0] if response.error_message else "OK"
                with self.lock:
                    self.answers.setdefault(response.infer_response.id, []).append(
                        (time.monotonic(), status, response.error_message))
            end = ("OK", "")
        except grpc.RpcError as error:
            end = (error.code().name, error.details() or "")
        with self.lock:
            self.stream_end = (time.monotonic(),) + end

    def wait_for_end(self, timeout):
        self.reader.join(timeout=timeout)
        self.channel.close()
        with self.lock:
            return dict(self.sent), {k: list(v) for k, v in self.answers.items()}, self.stream_end


class LifecycleCase(unittest.TestCase):
    """Processes in a temporary folder with their logs; every process still running is stopped at the end."""

    def setUp(self):
        if not os.access(NEXUS_BIN, os.X_OK):
            raise RuntimeError(f"NEXUS_BIN={NEXUS_BIN} is not an executable (build with `swift build`)")
        self.tmp = tempfile.mkdtemp(prefix="nexus-lifecycle-")
        self.repo, self.apps = make_repository(self.tmp)
        self.processes = []

    def tearDown(self):
        failed = any(error for _, error in self._outcome.result.errors + self._outcome.result.failures
                     if _ is self) if hasattr(self._outcome, "result") else False
        for process in reversed(self.processes):
            process.stop()
        if failed or os.environ.get("NEXUS_TEST_KEEP_LOGS") == "1":
            for process in self.processes:
                print(f"----- {process.name} -----\n{process.tail(30)}", file=sys.stderr)
            print(f"logs kept in {self.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, name, *args):
        if args[0] in ("serve", "frontend"):   # HTTP/REST is tested in test_http.py; no fixed port 8000 here
            args = (*args, "--http-listen", "none")
        process = Process(name, list(args), self.tmp).start()
        self.processes.append(process)
        return process

    def wait_until(self, predicate, what, timeout=START_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while not predicate():
            dead = [p for p in self.processes if p.exited() and not p.killed]
            if dead:
                self.fail(f"waiting until {what}: {', '.join(p.name for p in dead)} exited")
            if time.monotonic() > deadline:
                self.fail(f"timed out after {timeout:.0f} s waiting until {what}")
            time.sleep(POLL_S)

    def ready(self, url, app):
        try:
            client = grpcclient.InferenceServerClient(url=url)
            try:
                client.infer(app, [tensor()], client_timeout=5)
                return True
            finally:
                client.close()
        except InferenceServerException:
            return False

    def cluster_status(self, scheduler):
        import json
        done = subprocess.run([NEXUS_BIN, "cluster-status", "--scheduler", scheduler, "--json"], cwd=ROOT,
                              capture_output=True, text=True, timeout=15)
        return json.loads(done.stdout) if done.returncode == 0 else None

    def sigterm_under_load(self, process, url, app, label, in_flight_must_succeed=True, again_after_s=None,
                           readiness=None):
        """Open load on `url`; SIGTERM to `process` in the middle; the process must exit 0 and every
        request be answered once, never CANCELLED. With `readiness` (a list), ServerReady's answers after the
        signal are appended to it. Returns the figures."""
        load = OpenLoad(url, app, LOAD_RATE).start()
        probe = grpcclient.InferenceServerClient(url=url) if readiness is not None else None
        try:
            time.sleep(LOAD_BEFORE_S)  # the load's duration before the signal, not a synchronisation
            signalled_at = time.monotonic()
            process.popen.send_signal(signal.SIGTERM)
            while probe is not None and False not in readiness and time.monotonic() < signalled_at + 1.0:
                try:
                    readiness.append(probe.is_server_ready(client_timeout=1.0))
                except InferenceServerException as error:
                    readiness.append(str(error.status()))
                    break
            if again_after_s is not None:  # a second signal while it drains must not cut the drain short
                time.sleep(max(0.0, signalled_at + again_after_s - time.monotonic()))
                process.popen.send_signal(signal.SIGTERM)
            code = None
            deadline = signalled_at + EXIT_TIMEOUT_S
            while time.monotonic() < deadline and code is None:
                code = process.popen.poll()
                time.sleep(0.01)
            exited_at = time.monotonic()
            while time.monotonic() < max(exited_at, signalled_at + LOAD_AFTER_S):
                time.sleep(POLL_S)
        finally:
            load.stop()
            if probe is not None:
                probe.close()
        sent, answers = load.wait_for_answers(CLIENT_TIMEOUT_S + 10)
        self.assertIsNotNone(code, f"{label}: still running {EXIT_TIMEOUT_S:.0f} s after SIGTERM")
        self.assertEqual(code, 0, f"{label}: exit status after SIGTERM")
        self.assertEqual(load.send_errors, [], f"{label}: async_infer raised")
        missing = [r for r in sent if r not in answers]
        twice = [r for r, a in answers.items() if len(a) > 1]
        self.assertEqual(missing, [], f"{label}: {len(missing)} of {len(sent)} requests got no answer")
        self.assertEqual(twice, [], f"{label}: requests answered more than once")
        outcome = {r: a[0] for r, a in answers.items()}
        unexpected = [(r, o[1], o[2]) for r, o in outcome.items() if o[1] not in ANSWERS]
        self.assertEqual(unexpected, [], f"{label}: answers other than {ANSWERS} (CANCELLED: dropped on exit)")

        in_flight = [r for r, t in sent.items() if t < signalled_at and outcome[r][0] >= signalled_at]
        accepted = [r for r in in_flight if sent[r] < signalled_at - ACCEPTED_MARGIN_S]
        counts = {}
        for r in in_flight:
            counts[outcome[r][1]] = counts.get(outcome[r][1], 0) + 1
        after = [outcome[r] for r, t in sent.items() if t >= signalled_at]
        figures = {"sent": len(sent), "in_flight": len(in_flight), "in_flight_answers": counts,
                   "exit_s": round(exited_at - signalled_at, 3), "sent_after": len(after),
                   "after_answers": sorted({o[1] for o in after})}
        print(f"\n{label}: {figures}", file=sys.stderr)
        self.assertGreater(len(accepted), 5, f"{label}: too few requests in flight at SIGTERM to test a drain")
        if in_flight_must_succeed:  # answered as without the signal: OK, or an early drop
            failed = [(r, outcome[r][1], outcome[r][2]) for r in accepted
                      if outcome[r][1] not in ("OK", "StatusCode.DEADLINE_EXCEEDED")]
            self.assertEqual(failed, [], f"{label}: requests in flight at SIGTERM were cut short")
        return figures, outcome, sent, signalled_at


class ServeTest(LifecycleCase):
    """`nexus serve`: transport limits, then SIGTERM under load."""

    def start_serve(self, *extra):
        self.port = free_ports(1)[0]
        self.url = f"127.0.0.1:{self.port}"
        self.serve = self.start("serve", "serve", "--repo", self.repo, "--apps", self.apps, "--device", "simulated",
                                "--profile", "sim", "--listen", self.url, "--beacon-ms", "500", *serving_flags(),
                                *extra)
        for app in ("slow", "fast"):
            self.wait_until(functools.partial(self.ready, self.url, app), f"serve answers {app}")

    def test_concurrent_calls_on_one_connection_and_oversize_message(self):
        self.start_serve("--max-message-mb", str(MAX_MESSAGE_MB))
        channel = grpc.insecure_channel(self.url)
        try:
            stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)

            def request(request_id, payload=None, app="fast"):
                r = service_pb2.ModelInferRequest(model_name=app, id=request_id)
                t = r.inputs.add()
                t.name, t.datatype = "input", "FP32"
                t.shape.extend([1, INPUT_ELEMENTS[app]])
                r.raw_input_contents.append(payload if payload is not None
                                            else np.ones(INPUT_ELEMENTS[app], "<f4").tobytes())
                return r

            # 1,000 calls open at once on the channel's one connection.
            futures = [stub.ModelInfer.future(request(f"c{i}"), timeout=CLIENT_TIMEOUT_S) for i in range(CONCURRENT)]
            codes = {}
            for f in futures:
                code = f.code()
                codes[code.name] = codes.get(code.name, 0) + 1
            print(f"\n{CONCURRENT} concurrent calls on one connection: {codes}", file=sys.stderr)
            self.assertEqual(codes, {"OK": CONCURRENT}, "every concurrent call answered OK")
            ids = sorted(f.result().id for f in futures)
            self.assertEqual(ids, sorted(f"c{i}" for i in range(CONCURRENT)), "each answer echoes its id")

            # A message over the limit: RESOURCE_EXHAUSTED with the limit named; the connection serves on.
            big = b"\0" * ((MAX_MESSAGE_MB << 20) + 1024)
            with self.assertRaises(grpc.RpcError) as caught:
                stub.ModelInfer(request("big", big), timeout=CLIENT_TIMEOUT_S)
            error = caught.exception
            print(f"oversize message: {error.code().name}: {error.details()}", file=sys.stderr)
            self.assertEqual(error.code(), grpc.StatusCode.RESOURCE_EXHAUSTED, error.details())
            self.assertIn(str(MAX_MESSAGE_MB << 20), error.details() or "", "the message names the limit")
            self.assertEqual(stub.ModelInfer(request("after-big"), timeout=CLIENT_TIMEOUT_S).id, "after-big")

            # Calls within the limit whose sum is far over it: the frontend's link to the backend carries them
            # in several messages, each within the limit.
            count = 4 * MAX_MESSAGE_MB // (BIG_INPUT * 4 >> 20)
            futures = [stub.ModelInfer.future(request(f"b{i}", app="big"), timeout=CLIENT_TIMEOUT_S)
                       for i in range(count)]
            codes = sorted({f.code().name for f in futures})
            print(f"{count} concurrent calls of 2 MiB: {codes}", file=sys.stderr)
            self.assertEqual(codes, ["OK"], [f.details() for f in futures if f.code() != grpc.StatusCode.OK][:3])
        finally:
            channel.close()
        self.assertTrue(self.ready(self.url, "fast"), "a new connection is served after the oversize message")
        self.assertIsNone(self.serve.popen.poll(), "serve still runs")

    def test_sigterm_under_load_answers_every_request(self):
        self.start_serve()
        stream = StreamLoad(self.url, "slow", LOAD_RATE / 2).start()
        readiness = []
        try:
            figures, outcome, sent, signalled_at = self.sigterm_under_load(self.serve, self.url, "slow", "serve",
                                                                             again_after_s=0.1, readiness=readiness)
        finally:
            stream.stop()
        self.assertIn(False, readiness, f"ServerReady answers false while the frontend drains: {readiness}")
        self.check_stream(stream, signalled_at)
        messages = [o[2] for r, o in outcome.items() if sent[r] >= signalled_at and o[1] == "StatusCode.UNAVAILABLE"]
        self.assertTrue(any("shutting down" in m for m in messages),
                        f"new requests during the drain are told the frontend is shutting down: {messages[:3]}")
        with open(self.serve.log_path) as f:
            self.assertIn("drained in", f.read(), "the frontend logs its drain")


    def check_stream(self, stream, signalled_at):
        """Every request the stream's server read is answered on it, once; the stream then ends UNAVAILABLE
        (the server closed it after answering) or OK (the client closed first), never CANCELLED."""
        sent, answers, end = stream.wait_for_end(CLIENT_TIMEOUT_S)
        self.assertIsNotNone(end, "the stream ended")
        self.assertIn(end[1], ("UNAVAILABLE", "OK"), f"the stream's end: {end}")
        if end[1] == "UNAVAILABLE":
            self.assertIn("shutting down", end[2])
        twice = [r for r, a in answers.items() if len(a) > 1]
        self.assertEqual(twice, [], "stream requests answered more than once")
        codes = {a[0][1] for a in answers.values()}
        self.assertLessEqual(codes, {"OK", "UNAVAILABLE", "DEADLINE_EXCEEDED"}, f"in-stream answers: {codes}")
        unanswered_before = [r for r, t in sent.items() if t < signalled_at and r not in answers]
        self.assertEqual(unanswered_before, [], "stream requests sent before SIGTERM got no answer")
        accepted = [r for r, t in sent.items() if t < signalled_at - ACCEPTED_MARGIN_S]
        failed = [(r, answers[r][0][2]) for r in accepted if answers[r][0][1] not in ("OK", "DEADLINE_EXCEEDED")]
        self.assertEqual(failed, [], "stream requests in flight at SIGTERM were cut short")
        print(f"stream: {len(sent)} sent, {len(answers)} answered ({sorted(codes)}), "
              f"ended {end[1]} {end[0] - signalled_at:.3f} s after SIGTERM", file=sys.stderr)

    def test_drain_timeout_answers_the_rest_unavailable(self):
        """--drain-timeout-s 0.1 while batches take 0.2-0.36 s: what is still running when it passes is
        answered UNAVAILABLE, the process exits 0 at once, and nothing is CANCELLED or lost."""
        self.port = free_ports(1)[0]
        self.url = f"127.0.0.1:{self.port}"
        self.serve = self.start("serve", "serve", "--repo", self.repo, "--apps", self.apps, "--device", "simulated",
                                "--profile", "sim", "--listen", self.url, "--beacon-ms", "500",
                                "--event-loop-threads", "1", "--drain-timeout-s", "0.1")
        self.wait_until(functools.partial(self.ready, self.url, "slow"), "serve answers slow")
        figures, outcome, sent, signalled_at = self.sigterm_under_load(self.serve, self.url, "slow", "drain timeout",
                                                                         in_flight_must_succeed=False)
        self.assertIn("StatusCode.UNAVAILABLE", figures["in_flight_answers"], "the drain timeout cut some requests")
        self.assertLess(figures["exit_s"], 3.0, "the process exits soon after the drain timeout")


class SeparateProcessesTest(LifecycleCase):
    """Scheduler, two backends and two frontends as processes; SIGTERM to a frontend, then to the backend
    that serves the load, then to the scheduler, each under load; then the rest."""

    def test_sigterm_to_each_process_under_load(self):
        ports = free_ports(5)
        scheduler = f"127.0.0.1:{ports[0]}"
        self.scheduler = self.start("scheduler", "scheduler", "--listen", scheduler, "--repo", self.repo,
                                    "--apps", self.apps, "--profile", "sim", "--beacon-ms", "500", *serving_flags())
        self.wait_until(lambda: self.cluster_status(scheduler) is not None, "the scheduler answers")
        backends = {}
        for i, port in enumerate(ports[1:3]):
            address = f"127.0.0.1:{port}"
            backends[address] = self.start(f"backend-{i}", "backend", "--scheduler", scheduler, "--listen", address,
                                           "--repo", self.repo, "--device", "simulated", "--profile", "sim",
                                           *serving_flags())
        frontends = []
        for i, port in enumerate(ports[3:5]):
            url = f"127.0.0.1:{port}"
            frontends.append((self.start(f"frontend-{i}", "frontend", "--scheduler", scheduler, "--listen", url,
                                         *serving_flags()), url))
            self.wait_until(functools.partial(self.ready, url, "slow"), f"frontend {i} answers")

        # A frontend: the requests it holds are answered, new ones are refused, it exits 0.
        frontend, url = frontends[0]
        self.sigterm_under_load(frontend, url, "slow", "frontend")

        # A backend that runs `slow`: its queue runs to the end; calls that reach it after its drain began
        # are answered UNAVAILABLE, and the frontend retries them on the other backend when that runs slow too.
        status = self.cluster_status(scheduler)
        serving = sorted({t["address"] for session, targets in status["routes"].items() if session.startswith("slow@")
                          for t in targets})
        self.assertTrue(serving, f"a backend runs slow: {status}")
        target = next(p for a, p in backends.items() if a.rsplit(":", 1)[1] == serving[0].rsplit(":", 1)[1])
        frontend, url = frontends[1]
        self.sigterm_under_load(target, url, "slow", "backend")
        self.wait_until(functools.partial(self.ready, url, "slow"), "the other backend serves slow")

        # The scheduler: the data path does not need it; every request is answered OK.
        figures, outcome, _, _ = self.sigterm_under_load(self.scheduler, url, "slow", "scheduler")
        failed = [(r, o[1]) for r, o in outcome.items() if o[1] != "OK"]
        self.assertEqual(failed, [], "without the scheduler, the frontend and backend keep serving")

        for process in [p for p in backends.values() if p is not target] + [frontend]:
            process.popen.send_signal(signal.SIGTERM)
            self.assertEqual(process.popen.wait(timeout=EXIT_TIMEOUT_S), 0, f"{process.name} exit status")

    def test_keepalive_detects_a_stopped_backend(self):
        """With --keepalive-s 1 --keepalive-timeout-s 1 and beacons of 10 s, a call held by a SIGSTOPped
        backend is answered UNAVAILABLE by the frontend in a few seconds: the link's pings went unanswered.
        Without keepalive it waited for the scheduler to miss 3 beacons (38.6 s measured)."""
        ports = free_ports(3)
        scheduler, backend, url = (f"127.0.0.1:{p}" for p in ports)
        keepalive = ["--keepalive-s", "1", "--keepalive-timeout-s", "1"]
        self.start("scheduler", "scheduler", "--listen", scheduler, "--repo", self.repo, "--apps", self.apps,
                   "--profile", "sim", "--beacon-ms", "10000", *serving_flags(), *keepalive)
        self.wait_until(lambda: self.cluster_status(scheduler) is not None, "the scheduler answers")
        stopped = self.start("backend", "backend", "--scheduler", scheduler, "--listen", backend, "--repo",
                             self.repo, "--device", "simulated", "--profile", "sim", *serving_flags(), *keepalive)
        self.start("frontend", "frontend", "--scheduler", scheduler, "--listen", url, *serving_flags(), *keepalive)
        self.wait_until(functools.partial(self.ready, url, "fast"), "the frontend answers")
        os.kill(stopped.pid, signal.SIGSTOP)
        try:
            client = grpcclient.InferenceServerClient(url=url)
            started = time.monotonic()
            with self.assertRaises(InferenceServerException) as caught:
                client.infer("fast", [tensor()], client_timeout=CLIENT_TIMEOUT_S)
            took = time.monotonic() - started
            client.close()
        finally:
            os.kill(stopped.pid, signal.SIGCONT)
        print(f"\na call held by a stopped backend: {caught.exception.status()} after {took:.1f} s", file=sys.stderr)
        self.assertEqual(caught.exception.status(), "StatusCode.UNAVAILABLE", caught.exception.message())
        self.assertLess(took, 8.0, "the transport noticed before the scheduler could (3 beacons: 30 s)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
