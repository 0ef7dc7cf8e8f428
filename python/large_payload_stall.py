#!/usr/bin/env python3
"""How much a client sending very large requests slows everyone else (issue 11: "a 60 MB request stalls
other clients for 0.85 s"). Starts `nexus serve --repo REPO --device simulated`, then measures small requests
(MODEL, FP32 [3, 32, 32], one at a time, paced at --rate) for --seconds alone, and again while a second client
sends UINT8 frames of --frame-mb MB ([S, S, 3], a valid frame the model's preprocess resizes) back to back on
its own connection. Prints one JSON object: the small requests' p50/p99/max latency in both phases, and the
large requests' count and latency.

    .venv-test/bin/python python/large_payload_stall.py --nexus .build/release/nexus --repo out/test-models
"""
import argparse, json, math, os, socket, subprocess, sys, tempfile, threading, time

import numpy as np
import tritonclient.grpc as grpcclient


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)] if ordered else None


def small_phase(url, model, rate, seconds, stop_big=None):
    client = grpcclient.InferenceServerClient(url)
    tensor = grpcclient.InferInput("input", [1, 3, 32, 32], "FP32")
    tensor.set_data_from_numpy(np.zeros((1, 3, 32, 32), dtype=np.float32))
    latencies, errors = [], 0
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        due = start + n / rate
        time.sleep(max(0.0, due - time.monotonic()))
        t = time.monotonic()
        try:
            client.infer(model, [tensor])
            latencies.append((time.monotonic() - t) * 1000)
        except Exception:  # counted, not fatal: the figure is the latency of those answered
            errors += 1
        n += 1
    client.close()
    return {"requests": n, "errors": errors, "p50Ms": percentile(latencies, 0.5), "p99Ms": percentile(latencies, 0.99),
            "maxMs": max(latencies) if latencies else None}


def big_sender(url, model, side, stop, out):
    client = grpcclient.InferenceServerClient(url)
    frame = grpcclient.InferInput("input", [side, side, 3], "UINT8")
    frame.set_data_from_numpy(np.full((side, side, 3), 7, dtype=np.uint8))
    while not stop.is_set():
        t = time.monotonic()
        try:
            client.infer(model, [frame], timeout=120)
            out["ok"] += 1
        except Exception as error:
            out["errors"] += 1
            out["lastError"] = str(error)[:200]
        out["latenciesMs"].append((time.monotonic() - t) * 1000)
    client.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nexus", default=".build/release/nexus")
    parser.add_argument("--repo", default="out/test-models")
    parser.add_argument("--model", default="tiny_cnn")
    parser.add_argument("--profile", default="cpu", help="the profile the SIMULATED backends time batches by")
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--frame-mb", type=float, default=60)
    args = parser.parse_args()
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="stall-serve-", suffix=".log", delete=False)
    serve = subprocess.Popen([args.nexus, "serve", "--repo", args.repo, "--device", "simulated", "--profile", args.profile,
                              "--listen", f"127.0.0.1:{port}", "--http-listen", "127.0.0.1:0"],
                             stdout=log, stderr=subprocess.STDOUT)
    url = f"127.0.0.1:{port}"
    try:
        client = grpcclient.InferenceServerClient(url)
        deadline = time.monotonic() + 120
        while True:
            try:
                if client.is_model_ready(args.model):
                    break
            except Exception:
                pass
            if time.monotonic() > deadline or serve.poll() is not None:
                sys.exit(f"nexus serve did not come up: {log.name}")
            time.sleep(0.2)
        small_phase(url, args.model, args.rate, 2)  # warm-up: plans, connections
        alone = small_phase(url, args.model, args.rate, args.seconds)
        side = int(math.sqrt(args.frame_mb * 1e6 / 3))
        stop, big = threading.Event(), {"ok": 0, "errors": 0, "latenciesMs": []}
        sender = threading.Thread(target=big_sender, args=(url, args.model, side, stop, big))
        sender.start()
        beside = small_phase(url, args.model, args.rate, args.seconds)
        stop.set()
        sender.join()
        print(json.dumps({"frameShape": [side, side, 3], "frameMB": round(side * side * 3 / 1e6, 1),
                          "small": {"alone": alone, "besideLarge": beside},
                          "large": {"ok": big["ok"], "errors": big["errors"], "lastError": big.get("lastError"),
                                    "p50Ms": percentile(big["latenciesMs"], 0.5), "maxMs": max(big["latenciesMs"], default=None)}},
                         indent=1))
    finally:
        serve.terminate()
        serve.wait(timeout=60)


if __name__ == "__main__":
    main()
