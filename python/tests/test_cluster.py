"""End-to-end test of a Nexus cluster of separate processes: a scheduler, a torch (CPU) backend, a simulated
backend and a frontend on 127.0.0.1, driven through Triton's Open Inference Protocol with tritonclient[grpc].

Needs: the nexus binary (env NEXUS_BIN, default .build/debug/nexus), the CI model repository (env
NEXUS_TEST_REPO, default out/test-models, written by python/export_models.py --set ci), numpy, torch and
tritonclient[grpc]. See python/tests/README.md. Expected outputs are computed here with torch from the same
TorchScript files the backend loads.

The tests run in name order and share one cluster; test_e kills the torch backend and test_f stops the rest,
so they run last.
"""
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import grpc
import numpy as np
import torch
import tritonclient.grpc as grpcclient
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _path(value):
    """A path from the environment: as given when it exists (relative to the working directory), else
    relative to the repository root."""
    if os.path.isabs(value) or os.path.exists(value):
        return os.path.abspath(value)
    return os.path.join(ROOT, value)


NEXUS_BIN = _path(os.environ.get("NEXUS_BIN", ".build/debug/nexus"))
REPO = _path(os.environ.get("NEXUS_TEST_REPO", "out/test-models"))
PROFILED_MODELS = ["tiny_cnn", "tiny_detector", "tiny_cars", "tiny_faces", "tiny_trunk", "noop"]

START_TIMEOUT_S = 60.0      # a process up and registered / applications ready
REQUEST_TIMEOUT_S = 30.0    # one inference request
POLL_S = 0.1                # poll interval while waiting for a state (never a synchronisation by itself)

CLASSIFY_YAML = """\
name: classify
latencySLOMs: 500
stages:
  - {name: classify, model: tiny_cnn}
"""

DETECT_YAML = """\
name: detect_and_classify
latencySLOMs: 1000
stages:
  - {name: detect, model: tiny_detector}
  - name: cars
    model: tiny_cars
    parent: detect
    gamma: 4
    input: {crops: {from: boxes, scoreAbove: 0.5, max: 4}}
  - name: faces
    model: tiny_faces
    parent: detect
    input: same
"""
CROP_SCORE_ABOVE, CROP_MAX = 0.5, 4

OK_ERRORS_AFTER_KILL = ("StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED")


# ---------------------------------------------------------------------------------------------------------
# Reference computation (numpy + torch), independent of the cluster


def read_model_yaml(model):
    """The keys of REPO/<model>/model.yaml this test needs (file, prefix, head, input shape, output names),
    read with a few regular expressions (the exporter writes one key per line, flow-style tensors)."""
    with open(os.path.join(REPO, model, "model.yaml")) as f:
        text = f.read()
    scalars = dict(re.findall(r"^(file|prefix|head):\s*\"?([^\"\s#]+)\"?", text, re.M))
    input_line = re.search(r"^input:\s*\{(.*)\}", text, re.M).group(1)
    shape = [int(v) for v in re.search(r"shape:\s*\[([^\]]*)\]", input_line).group(1).split(",")]
    outputs = re.findall(r"^\s*-\s*\{name:\s*\"?([^,\"]+)\"?,", text.split("outputs:", 1)[1], re.M)
    return {"file": scalars.get("file", "model.pt"), "prefix": scalars.get("prefix"),
            "head": scalars.get("head"), "input_shape": shape, "outputs": outputs}


def first_tensor(out):
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, dict):
        return next(iter(out.values()))
    return out[0]


class TorchModels:
    """Each model of the repository as torch computes it: a prefix-family member is head(prefix(x)[0])."""

    def __init__(self):
        self._modules, self.specs = {}, {}

    def _load(self, model, file):
        key = (model, file)
        if key not in self._modules:
            self._modules[key] = torch.jit.load(os.path.join(REPO, model, file), map_location="cpu").eval()
        return self._modules[key]

    def spec(self, model):
        if model not in self.specs:
            self.specs[model] = read_model_yaml(model)
        return self.specs[model]

    def run(self, model, batch):
        """First output of `model` for a float32 numpy batch [N, ...] (N may be 0)."""
        spec = self.spec(model)
        x = torch.from_numpy(np.array(batch, dtype=np.float32, copy=True))
        with torch.no_grad():
            if spec["prefix"]:
                prefix = self.spec(spec["prefix"])
                features = first_tensor(self._load(spec["prefix"], prefix["file"])(x))
                out = first_tensor(self._load(model, spec["head"])(features))
            else:
                out = first_tensor(self._load(model, spec["file"])(x))
        return out.numpy()


def crop_bilinear(image, box, height, width):
    """The crop of a float [C, H, W] image over the continuous box (x1, y1, x2, y2) in [0, 1] coordinates,
    resampled to [C, height, width]: output pixel (i, j) samples y = y1*H + (i + 0.5) * ((y2 - y1)*H / height)
    - 0.5 (x likewise), clamped to the image, bilinear between floor and floor + 1 (clamped)."""
    _, H, W = image.shape
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    sy = np.clip(y1 * H + (np.arange(height) + 0.5) * ((y2 - y1) * H / height) - 0.5, 0, H - 1)
    sx = np.clip(x1 * W + (np.arange(width) + 0.5) * ((x2 - x1) * W / width) - 0.5, 0, W - 1)
    y0, x0 = np.floor(sy).astype(np.int64), np.floor(sx).astype(np.int64)
    y1i, x1i = np.minimum(y0 + 1, H - 1), np.minimum(x0 + 1, W - 1)
    wy, wx = (sy - y0)[:, None], (sx - x0)[None, :]
    img = image.astype(np.float64)
    top = img[:, y0][:, :, x0] * (1 - wx) + img[:, y0][:, :, x1i] * wx
    bottom = img[:, y1i][:, :, x0] * (1 - wx) + img[:, y1i][:, :, x1i] * wx
    return (top * (1 - wy) + bottom * wy).astype(np.float32)


def select_boxes(boxes, height, width, score_above=CROP_SCORE_ABOVE, limit=CROP_MAX):
    """Rows (x1, y1, x2, y2, score) with score > score_above, in order, skipping boxes under one pixel wide
    or high (they do not count toward the limit), at most `limit`; corners clamped to [0, 1] and ordered
    (tiny_detector's already are), in double precision."""
    chosen = []
    for row in boxes:
        if len(chosen) == limit:
            break
        a, b, c, d = (min(1.0, max(0.0, float(v))) for v in row[:4])
        x1, y1, x2, y2 = min(a, c), min(b, d), max(a, c), max(b, d)
        if float(row[4]) > score_above and (x2 - x1) * width >= 1 and (y2 - y1) * height >= 1:
            chosen.append((x1, y1, x2, y2, float(row[4])))
    return chosen


def expected_detect_and_classify(models, image):
    """The outputs of detect_and_classify for one float32 [3, 32, 32] input, by name."""
    boxes = models.run("tiny_detector", image[None])            # [1, 8, 5]
    _, H, W = image.shape
    _, h, w = models.spec("tiny_cars")["input_shape"]
    crops = [crop_bilinear(image, b, h, w) for b in select_boxes(boxes[0], H, W)]
    cars = models.run("tiny_cars", np.stack(crops) if crops else np.zeros((0, 3, h, w), np.float32))
    faces = models.run("tiny_faces", image[None])               # [1, 5]
    return {"detect/boxes": boxes, "cars/logits": cars, "faces/logits": faces}


def read_reference(model):
    folder = os.path.join(REPO, "_reference", model)
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    count = meta["count"]
    inputs = np.fromfile(os.path.join(folder, "input.f32"), "<f4").reshape(count, *meta["input_shape"])
    outputs = np.fromfile(os.path.join(folder, "output.f32"), "<f4").reshape(count, *meta["output_shape"])
    return inputs, outputs


def max_error(actual, expected):
    """Largest absolute difference, relative to the expected values' magnitude when that is above 1."""
    if expected.size == 0:
        return 0.0
    scale = max(1.0, float(np.abs(expected).max()))
    return float(np.abs(actual.astype(np.float64) - expected).max()) / scale


# ---------------------------------------------------------------------------------------------------------
# Processes


def free_ports(count):
    """Ports free on 127.0.0.1 now (all bound at once so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Process:
    """One nexus process, its output in a log file."""

    def __init__(self, name, args, log_dir):
        self.name, self.args = name, [NEXUS_BIN] + args
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.popen, self.killed = None, False

    def start(self):
        with open(self.log_path, "wb") as log:
            log.write(("$ " + " ".join(self.args) + "\n").encode())
            log.flush()
            self.popen = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          cwd=ROOT, start_new_session=True)
        return self

    @property
    def pid(self):
        return self.popen.pid

    def exited(self):
        return self.popen is not None and self.popen.poll() is not None

    def kill(self):
        """SIGKILL, as a crash (the test expects the cluster to notice)."""
        self.killed = True
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout=10.0):
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=timeout)

    def tail(self, lines=40):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError as error:
            return f"(no log: {error})"
        return "\n".join(text.splitlines()[-lines:])


def dump_logs_on_failure(test):
    """Print the tail of every process's log when the test fails."""
    @functools.wraps(test)
    def wrapper(self, *args, **kwargs):
        try:
            return test(self, *args, **kwargs)
        except BaseException:
            type(self).failed = True
            type(self).print_logs(f"{test.__name__} failed")
            raise
    return wrapper


def runtime_of(result):
    parameter = result.get_response().parameters.get("nexus_runtime")
    return parameter.string_param if parameter is not None else None


# ---------------------------------------------------------------------------------------------------------


class ClusterTest(unittest.TestCase):
    processes = []
    tmp = None
    failed = False  # keep the logs' folder

    # --- set-up and tear-down ----------------------------------------------------------------------------

    @classmethod
    def setUpClass(cls):
        if not os.access(NEXUS_BIN, os.X_OK):
            raise RuntimeError(f"NEXUS_BIN={NEXUS_BIN} is not an executable (build with `swift build`)")
        for model in PROFILED_MODELS:
            if not os.path.exists(os.path.join(REPO, model, "model.yaml")):
                raise RuntimeError(f"{REPO}/{model}/model.yaml missing: run "
                                   f"/usr/bin/python3 python/export_models.py --repo {REPO} --set ci")
        torch.set_num_threads(1)  # leave the cores to the cluster
        cls.models = TorchModels()
        cls.tmp = tempfile.mkdtemp(prefix="nexus-cluster-")
        print(f"\ncluster test: logs in {cls.tmp}", file=sys.stderr)
        cls.processes = []
        try:
            cls.ensure_profiles()
            cls.start_cluster()
        except BaseException:
            cls.print_logs("set-up failed")
            cls.stop_all()
            print(f"logs kept in {cls.tmp}", file=sys.stderr)
            raise

    @classmethod
    def tearDownClass(cls):
        for client in ("client", "stream_client"):
            if getattr(cls, client, None) is not None:
                getattr(cls, client).close()
        cls.stop_all()
        if cls.failed or os.environ.get("NEXUS_TEST_KEEP_LOGS") == "1":
            print(f"\ncluster test: logs kept in {cls.tmp}", file=sys.stderr)
        elif cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def stop_all(cls):
        for process in reversed(cls.processes):
            try:
                process.stop()
            except Exception as error:  # keep stopping the others
                print(f"stopping {process.name}: {error}", file=sys.stderr)

    @classmethod
    def print_logs(cls, why):
        print(f"\n===== {why}: process logs (last lines; full logs in {cls.tmp}) =====", file=sys.stderr)
        for process in cls.processes:
            state = "running" if not process.exited() else f"exited {process.popen.returncode}"
            print(f"----- {process.name} (pid {process.pid}, {state}) -----\n{process.tail()}", file=sys.stderr)

    @classmethod
    def nexus(cls, *args, timeout=60.0):
        return subprocess.run([NEXUS_BIN, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)

    @classmethod
    def ensure_profiles(cls):
        for model in PROFILED_MODELS:
            if os.path.exists(os.path.join(REPO, model, "profiles", "cpu.csv")):
                continue
            done = cls.nexus("profile", "--repo", REPO, "--model", model, "--device", "cpu", "--threads", "1",
                             "--batches", "1", "2", "4", "8", "--runs", "3", timeout=600)
            if done.returncode != 0:
                raise RuntimeError(f"nexus profile --model {model} failed ({done.returncode}):\n"
                                   f"{done.stdout}\n{done.stderr}")

    @classmethod
    def start(cls, name, *args):
        if args[0] in ("serve", "frontend"):   # HTTP/REST is tested in test_http.py; no fixed port 8000 here
            args = (*args, "--http-listen", "none")
        process = Process(name, list(args), cls.tmp).start()
        cls.processes.append(process)
        return process

    @classmethod
    def start_cluster(cls):
        apps = os.path.join(cls.tmp, "apps")
        os.makedirs(apps)
        for file, text in (("classify.yaml", CLASSIFY_YAML), ("detect_and_classify.yaml", DETECT_YAML)):
            with open(os.path.join(apps, file), "w") as f:
                f.write(text)
        ports = free_ports(4)
        cls.scheduler_address = f"127.0.0.1:{ports[0]}"
        cls.torch_address = f"127.0.0.1:{ports[1]}"
        cls.simulated_address = f"127.0.0.1:{ports[2]}"
        cls.frontend_address = f"127.0.0.1:{ports[3]}"

        cls.scheduler = cls.start("scheduler", "scheduler", "--listen", cls.scheduler_address, "--repo", REPO,
                                  "--apps", apps, "--profile", "cpu", "--beacon-ms", "500")
        cls.wait_until(lambda: cls.cluster_status() is not None, "the scheduler answers cluster-status")

        # The torch backend registers first: the scheduler places a light load on it.
        cls.torch_backend = cls.start("backend-torch", "backend", "--scheduler", cls.scheduler_address,
                                      "--listen", cls.torch_address, "--repo", REPO, "--device", "cpu",
                                      "--threads", "1")
        cls.wait_until(lambda: cls.node_alive(cls.torch_address), "the torch backend is alive in cluster-status")
        cls.simulated_backend = cls.start("backend-simulated", "backend", "--scheduler", cls.scheduler_address,
                                          "--listen", cls.simulated_address, "--repo", REPO,
                                          "--device", "simulated", "--profile", "cpu")
        cls.wait_until(lambda: cls.node_alive(cls.simulated_address),
                       "the simulated backend is alive in cluster-status")
        cls.frontend = cls.start("frontend", "frontend", "--scheduler", cls.scheduler_address,
                                 "--listen", cls.frontend_address)
        cls.client = grpcclient.InferenceServerClient(url=cls.frontend_address)
        cls.stream_client = None
        for app in ("classify", "detect_and_classify"):
            cls.wait_until(functools.partial(cls.model_ready, app), f"the frontend reports '{app}' ready")

    @classmethod
    def wait_until(cls, predicate, what, timeout=START_TIMEOUT_S):
        """Polls `predicate` until it is true; fails after `timeout` s, or at once when a process exited."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return
            dead = [p for p in cls.processes if p.exited() and not p.killed]
            if dead:
                raise AssertionError(f"waiting until {what}: {', '.join(p.name for p in dead)} exited "
                                     f"(status {', '.join(str(p.popen.returncode) for p in dead)})")
            if time.monotonic() > deadline:
                extra = f"; last cluster-status problem: {cls.last_status_error}" if cls.last_status_error else ""
                raise AssertionError(f"timed out after {timeout:.0f} s waiting until {what}{extra}")
            time.sleep(POLL_S)

    last_status_error = None

    @classmethod
    def cluster_status(cls):
        """`nexus cluster-status --json`, parsed; None (and last_status_error set) when it fails."""
        try:
            done = cls.nexus("cluster-status", "--scheduler", cls.scheduler_address, "--json", timeout=15)
        except subprocess.TimeoutExpired:
            cls.last_status_error = "cluster-status did not answer within 15 s"
            return None
        if done.returncode != 0:
            cls.last_status_error = f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-500:]}"
            return None
        try:
            status = json.loads(done.stdout)
        except ValueError as error:
            cls.last_status_error = f"not JSON ({error}): {done.stdout[-500:]!r}"
            return None
        cls.last_status_error = None
        return status

    @staticmethod
    def find_node(status, address):
        port = address.rsplit(":", 1)[1]
        for node in status.get("nodes", []):
            if str(node.get("address", "")).rsplit(":", 1)[-1] == port:
                return node
        return None

    @classmethod
    def node_alive(cls, address):
        status = cls.cluster_status()
        node = status and cls.find_node(status, address)
        return bool(node and node.get("alive"))

    @classmethod
    def model_ready(cls, app):
        try:
            return cls.client.is_model_ready(app)
        except InferenceServerException:
            return False

    # --- helpers -----------------------------------------------------------------------------------------

    def app_input(self, app):
        meta = self.client.get_model_metadata(app)
        self.assertTrue(meta.inputs, f"the metadata of {app} lists no inputs")
        return meta.inputs[0].name

    def fp32_input(self, app, array, datatype="FP32"):
        tensor = grpcclient.InferInput(self.app_input(app), list(array.shape), datatype)
        tensor.set_data_from_numpy(array)
        return tensor

    def infer(self, app, array, request_id, client=None, parameters=None):
        result = (client or self.client).infer(app, [self.fp32_input(app, array)], request_id=request_id,
                                               client_timeout=REQUEST_TIMEOUT_S, parameters=parameters)
        self.assertEqual(result.get_response().id, request_id, "the response must echo the request's id")
        return result

    def classify_reference(self):
        inputs, outputs = read_reference("tiny_cnn")
        return inputs[0:1], outputs[0:1]

    def assert_good_request(self, after):
        x, _ = self.classify_reference()
        try:
            self.infer("classify", x, f"good-after-{after}")
        except InferenceServerException as error:
            self.fail(f"a good request after the malformed one ({after}) failed: {error}")

    def check_detect_result(self, result, image, label):
        expected = expected_detect_and_classify(self.models, image)
        names = {o.name for o in result.get_response().outputs}
        self.assertEqual(names, set(expected), f"{label}: output names")
        runtime = runtime_of(result)
        self.assertEqual(runtime, "torch",
                         f"{label}: nexus_runtime is {runtime!r}; this test expects the torch backend (registered "
                         "first) to serve a light load, as the scheduler places load in registration order. If "
                         "placement is not meant to follow registration order, this assertion is wrong.")
        for name, want in expected.items():
            got = result.as_numpy(name)
            self.assertIsNotNone(got, f"{label}: {name} missing")
            self.assertEqual(list(got.shape), list(want.shape), f"{label}: shape of {name}")
            error = max_error(got, want)
            self.assertLessEqual(error, 1e-3, f"{label}: {name} differs from torch by {error:.2e}")
        return expected["cars/logits"].shape[0]

    def detect_inputs(self):
        """Random inputs, and the detector's reference inputs (some of which have boxes under a pixel)."""
        rng = np.random.default_rng(42)
        reference, _ = read_reference("tiny_detector")
        return [rng.standard_normal((3, 32, 32)).astype(np.float32) for _ in range(3)] + list(reference)

    # --- tests (run in name order) -----------------------------------------------------------------------

    @dump_logs_on_failure
    def test_a_classify_matches_torch(self):
        x, want = self.classify_reference()
        runtimes = []
        for i in range(6):
            result = self.infer("classify", x, f"classify-{i}")
            response = result.get_response()
            self.assertEqual([o.name for o in response.outputs], ["classify/logits"])
            got = result.as_numpy("classify/logits")
            self.assertEqual(list(got.shape), [1] + list(want.shape[1:]))
            runtime = runtime_of(result)
            runtimes.append(runtime)
            self.assertIn(runtime, ("torch", "simulated"), "the nexus_runtime response parameter")
            if runtime == "torch":
                error = max_error(got, want)
                self.assertLessEqual(error, 1e-4, f"classify-{i}: differs from torch's reference by {error:.2e}")
            else:
                self.assertFalse(got.any(), "the simulated runtime's outputs are zeros")
        self.assertEqual(runtimes, ["torch"] * len(runtimes),
                         "all requests should be served by the torch backend: it registered first and the "
                         "scheduler places a light load on backends in registration order. If placement is not "
                         "meant to follow registration order, this assertion is wrong.")

    @dump_logs_on_failure
    def test_a_timing_parameters(self):
        """With the request parameter nexus_timing, the response says where its time went; without it, not."""
        x, _ = self.classify_reference()
        plain = self.infer("classify", x, "timing-0").get_response().parameters
        self.assertNotIn("nexus_frontend_ns", plain)
        for app, array in (("classify", x), ("detect_and_classify", self.detect_inputs()[0][None])):
            response = self.infer(app, array, f"timing-{app}", parameters={"nexus_timing": True}).get_response()
            frontend, call, backend = (response.parameters[k].int64_param
                                       for k in ("nexus_frontend_ns", "nexus_call_ns", "nexus_backend_ns"))
            self.assertGreater(backend, 0, f"{app}: the backend's share")
            self.assertGreater(call, backend, f"{app}: a call's round trip holds its time on the backend")
            if app == "classify":  # one call: its round trip is inside the request's time in the frontend
                self.assertGreater(frontend, call)

    @dump_logs_on_failure
    def test_b_detect_and_classify_matches_torch(self):
        crops = []
        for i, image in enumerate(self.detect_inputs()):
            result = self.infer("detect_and_classify", image[None], f"detect-{i}")
            crops.append(self.check_detect_result(result, image, f"detect-{i}"))
        print(f"\ndetect_and_classify: crops per request {crops}", file=sys.stderr)

    @dump_logs_on_failure
    def test_c_detect_and_classify_stream(self):
        images = self.detect_inputs()[:4]
        responses, arrived = [], threading.Condition()

        def callback(result, error):
            with arrived:
                responses.append((result, error))
                arrived.notify_all()

        type(self).stream_client = client = grpcclient.InferenceServerClient(url=self.frontend_address)
        client.start_stream(callback=callback)
        complete = False
        try:
            ids = [f"stream-{i}" for i in range(len(images))]
            for request_id, image in zip(ids, images):
                client.async_stream_infer("detect_and_classify", [self.fp32_input("detect_and_classify", image[None])],
                                          request_id=request_id)
            with arrived:
                complete = arrived.wait_for(lambda: len(responses) >= len(ids), timeout=REQUEST_TIMEOUT_S * 2)
                received = list(responses)  # cancelling the stream below would call back once more
            self.assertTrue(complete, f"{len(received)} of {len(ids)} streamed responses arrived")
        finally:
            client.stop_stream(cancel_requests=not complete)
        errors = [str(e) for _, e in received if e is not None]
        self.assertEqual(errors, [], "streamed requests failed")
        by_id = {r.get_response().id: r for r, _ in received}
        self.assertEqual(sorted(by_id), sorted(ids), "each streamed response echoes its request's id, once")
        for request_id, image in zip(ids, images):
            self.check_detect_result(by_id[request_id], image, request_id)

    @dump_logs_on_failure
    def test_d_malformed_requests(self):
        name = self.app_input("classify")
        x, _ = self.classify_reference()

        def expect(status, words, call, what):
            with self.assertRaises(InferenceServerException, msg=what) as caught:
                call()
            error = caught.exception
            self.assertEqual(error.status(), f"StatusCode.{status}", f"{what}: {error}")
            message = (error.message() or "").lower()
            self.assertTrue(any(w in message for w in words), f"{what}: the message should mention one of "
                            f"{words}: {error.message()!r}")
            return message

        # A shape the model does not take.
        small = np.zeros((1, 3, 16, 16), np.float32)
        message = expect("INVALID_ARGUMENT", ["shape"], lambda: self.client.infer(
            "classify", [self.fp32_input("classify", small)], request_id="bad-shape"), "wrong shape")
        self.assertIn(name.lower(), message, "the message names the input")
        self.assert_good_request("wrong shape")

        # FP16 where the model takes FP32.
        half = x.astype(np.float16)
        message = expect("INVALID_ARGUMENT", ["datatype", "dtype"], lambda: self.client.infer(
            "classify", [self.fp32_input("classify", half, "FP16")], request_id="bad-dtype"), "wrong datatype")
        self.assertIn(name.lower(), message, "the message names the input")
        self.assert_good_request("wrong datatype")

        # Unknown application.
        expect("NOT_FOUND", ["no_such_app"], lambda: self.client.infer(
            "no_such_app", [self.fp32_input("classify", x)], request_id="bad-app"), "unknown application")
        self.assert_good_request("unknown application")

        # Below tritonclient's own checks: raw requests whose payload does not match the declared shape.
        channel = grpc.insecure_channel(self.frontend_address)
        try:
            stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)

            def raw(shape, payload, request_id):
                request = service_pb2.ModelInferRequest(model_name="classify", id=request_id)
                tensor = request.inputs.add()
                tensor.name, tensor.datatype = name, "FP32"
                tensor.shape.extend(shape)
                request.raw_input_contents.append(payload)
                return stub.ModelInfer(request, timeout=REQUEST_TIMEOUT_S)

            def expect_raw(status, words, shape, payload, what):
                with self.assertRaises(grpc.RpcError, msg=what) as caught:
                    raw(shape, payload, what.replace(" ", "-"))
                error = caught.exception
                self.assertEqual(error.code(), getattr(grpc.StatusCode, status), f"{what}: {error.details()}")
                message = (error.details() or "").lower()
                self.assertTrue(any(w in message for w in words), f"{what}: the message should mention one of "
                                f"{words}: {error.details()!r}")

            full = x.astype("<f4").tobytes()
            expect_raw("INVALID_ARGUMENT", ["byte", "size", "length"], list(x.shape), full[:-100],
                       "byte count mismatch")
            self.assert_good_request("byte count mismatch")

            expect_raw("INVALID_ARGUMENT", ["limit", "at most", "maximum", "too large", "exceeds"],
                       [100000, 3, 32, 32], full, "oversize")
            self.assert_good_request("oversize")

            # The request that trapped the frontend: a BYTES shape whose element count overflows 64 bits;
            # and a negative shape whose product is 1. Both refused, and the frontend lives on.
            def expect_bytes(shape, what):
                request = service_pb2.ModelInferRequest(model_name="classify", id=what)
                tensor = request.inputs.add()
                tensor.name, tensor.datatype = name, "BYTES"
                tensor.shape.extend(shape)
                request.raw_input_contents.append(b"\x03\x00\x00\x00\xff\xd8\xff")
                with self.assertRaises(grpc.RpcError, msg=what) as caught:
                    stub.ModelInfer(request, timeout=REQUEST_TIMEOUT_S)
                self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT, what)
                self.assertIn("shape", caught.exception.details(), what)
                self.assert_good_request(what)

            expect_bytes([4294967296, 4294967296], "bytes shape overflow")
            expect_bytes([-1, -1], "negative bytes shape")

            # A 16 KB application name: the error quotes it cut short, so it is deliverable.
            request = service_pb2.ModelInferRequest(model_name="x" * 16384, id="long-name")
            with self.assertRaises(grpc.RpcError) as caught:
                stub.ModelInfer(request, timeout=REQUEST_TIMEOUT_S)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
            self.assertLess(len(caught.exception.details()), 1024, "the error quotes the name cut short")
            self.assert_good_request("long name")
        finally:
            channel.close()

    @dump_logs_on_failure
    def test_e_kill_backend_under_load(self):
        """Open load of ~50 req/s on classify; the torch backend is SIGKILLed in the middle."""
        before = self.cluster_status()
        self.assertIsNotNone(before, f"cluster-status: {self.last_status_error}")
        self.assertTrue((self.find_node(before, self.torch_address) or {}).get("alive"), "torch backend alive")
        plan_before = before["planVersion"]

        x, _ = self.classify_reference()
        threads_n, rate = 4, 50.0
        interval = threads_n / rate
        lock = threading.Lock()
        sent = {}           # id -> send time (monotonic)
        answers = {}        # id -> list of (time, result, error)
        send_errors = []    # async_infer raising: the request never left
        stop = threading.Event()
        clients = []
        start = time.monotonic()

        def on_answer(request_id, result, error):
            with lock:
                answers.setdefault(request_id, []).append((time.monotonic(), result, error))

        def sender(index):
            client = grpcclient.InferenceServerClient(url=self.frontend_address)
            clients.append(client)
            tensor = self.fp32_input("classify", x)
            next_at, n = start + index * interval / threads_n, 0
            while not stop.is_set():
                delay = next_at - time.monotonic()
                if delay > 0:
                    stop.wait(delay)
                    continue
                request_id = f"load-{index}-{n}"
                n += 1
                next_at += interval
                with lock:
                    sent[request_id] = time.monotonic()
                try:
                    client.async_infer("classify", [tensor], functools.partial(on_answer, request_id),
                                       request_id=request_id, client_timeout=10.0)
                except InferenceServerException as error:
                    with lock:
                        send_errors.append((request_id, str(error)))

        threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(threads_n)]
        for t in threads:
            t.start()
        try:
            time.sleep(3.0)  # load before the kill (the load's duration, not a synchronisation)
            killed_at = time.monotonic()
            self.torch_backend.kill()

            # Keep the load on until the scheduler has noticed and re-planned, then 3 s more (at least 6 s).
            after = None
            deadline = killed_at + 60.0
            while time.monotonic() < deadline:
                status = self.cluster_status()
                node = status and self.find_node(status, self.torch_address)
                if status and not (node and node.get("alive")) and status.get("planVersion", -1) > plan_before:
                    after = status
                    break
                time.sleep(0.25)
            replanned_at = time.monotonic()
            while time.monotonic() < max(killed_at + 6.0, replanned_at + 3.0):
                time.sleep(0.1)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=10)
        ended_at = time.monotonic()

        # Every request is answered once (client_timeout bounds the wait).
        wait_deadline = time.monotonic() + 30.0
        while time.monotonic() < wait_deadline:
            with lock:
                if all(request_id in answers for request_id in sent):
                    break
            time.sleep(POLL_S)
        for client in clients:
            client.close()

        with lock:
            sent_snapshot, answers_snapshot = dict(sent), {k: list(v) for k, v in answers.items()}
        self.assertEqual(send_errors, [], "async_infer raised (the request was never sent)")
        missing = [r for r in sent_snapshot if r not in answers_snapshot]
        duplicated = [r for r, a in answers_snapshot.items() if len(a) > 1]
        self.assertEqual(missing, [], f"{len(missing)} of {len(sent_snapshot)} requests got no callback")
        self.assertEqual(duplicated, [], "requests answered more than once")

        outcomes = {r: a[0] for r, a in answers_snapshot.items()}
        bad_errors = [(r, str(e)) for r, (_, _, e) in outcomes.items()
                      if e is not None and e.status() not in OK_ERRORS_AFTER_KILL]
        self.assertEqual(bad_errors, [], f"errors other than {OK_ERRORS_AFTER_KILL}")
        before_kill = [(r, str(e)) for r, (t, _, e) in outcomes.items() if t < killed_at and e is not None]
        self.assertEqual(before_kill, [], "requests answered before the kill failed")

        self.assertIsNotNone(after, f"within 60 s of the kill, cluster-status did not show the torch backend "
                                    f"not alive with a planVersion above {plan_before} "
                                    f"(last problem: {self.last_status_error})")
        final = self.cluster_status()
        self.assertIsNotNone(final, f"cluster-status after the load: {self.last_status_error}")
        node = final and self.find_node(final, self.torch_address)
        self.assertFalse(node and node.get("alive"), "the killed torch backend is not alive in cluster-status")
        self.assertGreater(final["planVersion"], plan_before, "the scheduler re-planned after the kill")

        tail = sorted((t, r) for r, t in sent_snapshot.items() if t >= ended_at - 1.0)
        self.assertGreater(len(tail), 10, "requests were sent in the load's last second")
        tail_failures = [(r, str(outcomes[r][2])) for _, r in tail if outcomes[r][2] is not None]
        self.assertEqual(tail_failures, [], "requests sent in the load's last second failed")
        tail_runtimes = {runtime_of(outcomes[r][1]) for _, r in tail}
        self.assertEqual(tail_runtimes, {"simulated"}, "after the kill, the simulated backend serves classify")

        errors = sum(1 for _, _, e in outcomes.values() if e is not None)
        print(f"\nkill under load: {len(sent_snapshot)} requests in {ended_at - start:.1f} s, {errors} errors, "
              f"re-planned {replanned_at - killed_at:.1f} s after the kill "
              f"(planVersion {plan_before} -> {final['planVersion']}, {final.get('lastPlanReason')!r})",
              file=sys.stderr)

    @dump_logs_on_failure
    def test_f_sigterm_stops_each_process(self):
        """SIGTERM ends every process, first the backend while the frontend still holds a stream to it."""
        x, _ = self.classify_reference()
        self.infer("classify", x, "before-sigterm")  # the frontend's stream to the simulated backend is open
        for process in (self.simulated_backend, self.frontend, self.scheduler):
            process.popen.send_signal(signal.SIGTERM)
            try:
                code = process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.fail(f"{process.name} still runs 15 s after SIGTERM")
            self.assertEqual(code, 0, f"{process.name} exit status after SIGTERM")


if __name__ == "__main__":
    unittest.main(verbosity=2)
