#!/usr/bin/env python3
"""Randomised client for a running Nexus frontend: valid, invalid and garbage requests over real gRPC.

Each request is drawn from a seeded generator that knows its verdict: a valid request (built from the
application's ModelMetadata) must come back OK; an invalid one (a single known mutation: wrong input count
or name, bad or overflowing shape, batch over 1, unknown datatype, byte count off, data given twice, unknown
or very long model name) must never come back OK; a garbage one (random bytes as the protobuf message) must
never come back OK either. Every error must be at most --max-error-bytes long and name the field it is about.
At the end the server must still be live and answer a valid request.

Prints a JSON summary (counts per verdict and outcome, the failures) and exits 1 if any check failed.
    .venv-test/bin/python python/fuzz_client.py --url 127.0.0.1:8011 --count 2000 --seed 1
"""
import argparse
import concurrent.futures
import json
import random
import struct
import sys
import threading

import grpc
from tritonclient.grpc import service_pb2, service_pb2_grpc

FIELD_WORDS = ("inputs", "raw_input_contents", "shape", "datatype", "contents", "input '", "message")
DTYPE_BYTES = {"FP32": 4, "FP16": 2, "UINT8": 1, "INT32": 4, "INT64": 8, "FP64": 8}


def odd_string(rng, long=False):
    alphabet = "abcXYZ019_-.:/'\"\\\n\t {}[],#é€🙂"
    n = rng.randint(100, 20000) if long else rng.randint(0, 24)
    return "".join(rng.choice(alphabet) for _ in range(n))


class Generator:
    """Builds requests for the applications' metadata; every draw returns (kind, label, payload)."""

    def __init__(self, metadata, rng):
        self.apps = metadata  # name -> ModelMetadataResponse
        self.rng = rng

    def valid(self, app):
        meta = self.apps[app]
        tensor = meta.inputs[0]
        shape = [d if d > 0 else 1 for d in tensor.shape]
        count = 1
        for d in shape:
            count *= d
        request = service_pb2.ModelInferRequest(model_name=app, id=odd_string(self.rng))
        request.inputs.add(name=tensor.name, datatype=tensor.datatype, shape=shape)
        request.raw_input_contents.append(bytes(self.rng.getrandbits(8) for _ in range(count * DTYPE_BYTES[tensor.datatype])))
        return request

    def draw(self):
        rng = self.rng
        app = rng.choice(sorted(self.apps))
        roll = rng.random()
        if roll < 0.2:
            return "valid", "valid", self.valid(app)
        if roll < 0.3:
            return "garbage", "garbage", bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
        request = self.valid(app)
        tensor = request.inputs[0]
        mutation = rng.choice(MUTATIONS)
        mutation(request, tensor, rng)
        return "invalid", mutation.__name__, request


def no_inputs(request, tensor, rng):
    del request.inputs[:]


def two_inputs(request, tensor, rng):
    request.inputs.add().CopyFrom(tensor)


def rename(request, tensor, rng):
    tensor.name = odd_string(rng, long=rng.random() < 0.2) + "_x"


def extra_raw(request, tensor, rng):
    request.raw_input_contents.append(b"\x00" * 8)


def dimension_below_one(request, tensor, rng):
    tensor.shape[rng.randrange(len(tensor.shape))] = rng.choice([0, -1, -(2 ** 63), -rng.randint(1, 2 ** 62)])


def overflowing_shape(request, tensor, rng):
    del tensor.shape[:]
    tensor.shape.extend(rng.choice([[2 ** 32, 2 ** 32], [2 ** 63 - 1, 2], [3037000500, 3037000500, 3]]))


def negative_pair(request, tensor, rng):
    del tensor.shape[:]
    tensor.shape.extend([-1, -1])


def batch_over_one(request, tensor, rng):
    tensor.shape.insert(0, rng.randint(2, 10 ** 12))


def unknown_datatype(request, tensor, rng):
    tensor.datatype = rng.choice(["INT64", "FP64", "BOOL", "fp32", "", "BF16"]) or "X"


def bytes_off(request, tensor, rng):
    raw = request.raw_input_contents[0]
    request.raw_input_contents[0] = raw[:-rng.randint(1, len(raw))] if raw and rng.random() < 0.5 else raw + b"\x01" * rng.randint(1, 64)


def data_twice(request, tensor, rng):
    tensor.contents.fp32_contents.append(1.0)


def no_data(request, tensor, rng):
    del request.raw_input_contents[:]


def unknown_model(request, tensor, rng):
    request.model_name = odd_string(rng, long=rng.random() < 0.3) + "_no_such_app"


def bytes_many_elements(request, tensor, rng):
    tensor.datatype = "BYTES"
    del tensor.shape[:]
    tensor.shape.extend([2])
    request.raw_input_contents[0] = struct.pack("<I", 3) + b"abc"


MUTATIONS = [no_inputs, two_inputs, rename, extra_raw, dimension_below_one, overflowing_shape, negative_pair,
             batch_over_one, unknown_datatype, bytes_off, data_twice, no_data, unknown_model, bytes_many_elements]


def call(stub, raw_infer, payload, timeout):
    """(status code name, details) of one ModelInfer call; raw bytes go through an identity serializer."""
    try:
        if isinstance(payload, bytes):
            raw_infer(payload, timeout=timeout)
        else:
            stub.ModelInfer(payload, timeout=timeout)
        return "OK", ""
    except grpc.RpcError as error:
        return error.code().name, error.details() or ""


def judge(kind, code, details, max_error_bytes):
    """None when the outcome is right, else why not."""
    if kind == "valid":
        return None if code == "OK" else f"valid request answered {code}: {details[:200]}"
    if code == "OK":
        return f"{kind} request answered OK"
    if len(details.encode()) > max_error_bytes:
        return f"error of {len(details.encode())} bytes ({code}): {details[:200]}"
    if code == "NOT_FOUND" and not details.startswith("model name '"):
        return f"NOT_FOUND does not name the model name: {details[:200]}"
    if code == "INVALID_ARGUMENT" and not any(w in details for w in FIELD_WORDS):
        return f"error names no field ({code}): {details[:200]}"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="127.0.0.1:8011", help="the frontend's gRPC address")
    ap.add_argument("--count", type=int, default=2000, help="requests to send (default 2000)")
    ap.add_argument("--app", action="append", required=True, help="an application to fuzz (repeat for more)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=8, help="requests in flight at once (default 8)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per call (default 10)")
    ap.add_argument("--max-error-bytes", type=int, default=1024)
    args = ap.parse_args()

    options = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
    channel = grpc.insecure_channel(args.url, options=options)
    stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
    raw_infer = channel.unary_unary("/inference.GRPCInferenceService/ModelInfer",
                                    request_serializer=None, response_deserializer=None)
    names = args.app
    metadata = {}
    for name in names:
        try:
            metadata[name] = stub.ModelMetadata(service_pb2.ModelMetadataRequest(name=name), timeout=10)
        except grpc.RpcError:
            pass
    if not metadata:
        sys.exit("fuzz_client: the server lists no application (RepositoryIndex)")

    generator = Generator(metadata, random.Random(args.seed))
    draws = [generator.draw() for _ in range(args.count)]
    counts, failures, lock = {}, [], threading.Lock()

    def run(draw):
        kind, label, payload = draw
        code, details = call(stub, raw_infer, payload, args.timeout)
        problem = judge(kind, code, details, args.max_error_bytes)
        with lock:
            key = f"{kind}:{code}"
            counts[key] = counts.get(key, 0) + 1
            if problem and len(failures) < 20:
                failures.append({"label": label, "problem": problem})
            elif problem:
                failures.append(None)

    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(run, draws))
    live = stub.ServerLive(service_pb2.ServerLiveRequest(), timeout=10).live
    after = call(stub, raw_infer, generator.valid(sorted(metadata)[0]), args.timeout)[0]
    summary = {"sent": args.count, "seed": args.seed, "applications": sorted(metadata), "outcomes": counts,
               "failed_checks": len(failures), "failures": [f for f in failures if f],
               "live_after": live, "valid_after": after}
    print(json.dumps(summary, indent=1, sort_keys=True))
    sys.exit(0 if not failures and live and after == "OK" else 1)


if __name__ == "__main__":
    main()
