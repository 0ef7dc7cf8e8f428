#!/usr/bin/env python3
"""Send inference requests to a running Nexus frontend over Triton's Open Inference Protocol (gRPC).

Prints the server's metadata, the application's metadata, and for each response its outputs (name, shape,
first values) and parameters (Nexus labels outputs of the simulated runtime with `nexus_runtime: simulated`).

  pip install 'tritonclient[grpc]'
  python3 python/client_example.py                                  # one random tensor to tiny_cnn at localhost:8001
  python3 python/client_example.py --app classify --image cat.jpg   # a JPEG, sent as BYTES [1]
  python3 python/client_example.py --app detect_and_classify --stream --count 5

Exits with status 1 on any error (the server's status and message are printed).
"""
import argparse
import os
import sys
import threading
import time

import numpy as np

try:
    import tritonclient.grpc as grpcclient
    from tritonclient.utils import InferenceServerException, triton_to_np_dtype
except ImportError:
    sys.exit("client_example.py needs tritonclient's gRPC client: pip install 'tritonclient[grpc]'")


class ClientError(Exception):
    """An error of this example itself (not the server's)."""


def parameter_value(parameter):
    """The value of an InferParameter, whichever of its fields is set."""
    which = parameter.WhichOneof("parameter_choice")
    return getattr(parameter, which) if which else None


def describe_error(error):
    if isinstance(error, InferenceServerException):
        status = (error.status() or "error").replace("StatusCode.", "")  # errors on a stream carry only a message
        return f"{status}: {error.message()}"
    return str(error)


def print_server(client):
    meta = client.get_server_metadata()
    print(f"server: {meta.name} {meta.version}" + (f"  extensions: {', '.join(meta.extensions)}" if meta.extensions else ""))


def print_app(client, app):
    meta = client.get_model_metadata(app)
    print(f"application: {meta.name}  versions: {list(meta.versions) or '-'}  platform: {meta.platform or '-'}")
    for kind, tensors in (("input", meta.inputs), ("output", meta.outputs)):
        for t in tensors:
            print(f"  {kind:6s} {t.name}: {t.datatype} {list(t.shape)}")
    return meta


def make_inputs(meta, image, rng):
    if not meta.inputs:
        raise ClientError(f"the metadata of '{meta.name}' lists no inputs")
    spec = meta.inputs[0]
    if image:
        with open(image, "rb") as f:
            encoded = f.read()
        tensor = grpcclient.InferInput(spec.name, [1], "BYTES")
        tensor.set_data_from_numpy(np.array([encoded], dtype=np.object_))
        return [tensor], f"{spec.name}: JPEG {os.path.basename(image)} ({len(encoded)} bytes) as BYTES [1]"
    if spec.datatype == "BYTES":
        raise ClientError(f"'{meta.name}' takes BYTES input '{spec.name}': pass --image")
    shape = [1 if d < 0 else d for d in spec.shape]  # a variable (batch) dimension: 1
    dtype = triton_to_np_dtype(spec.datatype)
    if dtype is None:
        raise ClientError(f"input '{spec.name}' has datatype {spec.datatype}, which numpy cannot hold")
    if np.issubdtype(dtype, np.floating):
        data = rng.standard_normal(shape).astype(dtype)
    else:
        data = rng.integers(0, 256, size=shape).astype(dtype)
    tensor = grpcclient.InferInput(spec.name, shape, spec.datatype)
    tensor.set_data_from_numpy(data)
    return [tensor], f"{spec.name}: random {spec.datatype} {shape}"


def print_result(result, request_id, values):
    response = result.get_response()
    if response.id != request_id:
        raise ClientError(f"request '{request_id}': the response carries id '{response.id}' (the id must be echoed)")
    print(f"response {response.id!r} from {response.model_name}")
    for output in response.outputs:
        array = result.as_numpy(output.name)
        shown = "" if array is None else np.array2string(array.reshape(-1)[:values], precision=4, separator=", ")
        more = " ..." if array is not None and array.size > values else ""
        print(f"  {output.name}: {output.datatype} {list(output.shape)} {shown}{more}")
    if response.parameters:
        params = ", ".join(f"{k}={parameter_value(v)!r}" for k, v in sorted(response.parameters.items()))
        print(f"  parameters: {params}")


def run_sync(client, args, inputs):
    for i in range(args.count):
        request_id = f"example-{i}"
        start = time.perf_counter()
        result = client.infer(args.app, inputs, request_id=request_id, client_timeout=args.timeout)
        print(f"[{(time.perf_counter() - start) * 1e3:.1f} ms] ", end="")
        print_result(result, request_id, args.values)


def run_stream(client, args, inputs):
    results, done = [], threading.Condition()

    def callback(result, error):
        with done:
            results.append((result, error))
            done.notify_all()

    client.start_stream(callback=callback)
    complete = False
    try:
        sent = [f"example-stream-{i}" for i in range(args.count)]
        for request_id in sent:
            client.async_stream_infer(args.app, inputs, request_id=request_id)
        with done:
            # An error with a gRPC status ends the stream itself: no more responses come.
            ended = lambda: len(results) >= len(sent) or any(e is not None and e.status() for _, e in results)
            complete = done.wait_for(ended, timeout=args.timeout) and len(results) >= len(sent)
            received = list(results)  # what arrived: cancelling the stream below calls back once more
            if not complete and not any(e is not None for _, e in received):
                raise ClientError(f"{len(received)} of {len(sent)} streamed responses arrived within {args.timeout} s")
    finally:
        client.stop_stream(cancel_requests=not complete)
    errors = 0
    for result, error in received:
        if error is not None:
            print(f"error: {describe_error(error)}", file=sys.stderr)
            errors += 1
            continue
        response_id = result.get_response().id
        if response_id not in sent:
            raise ClientError(f"a streamed response carries id '{response_id}', which no request had")
        print_result(result, response_id, args.values)
    failed = errors + len(sent) - len(received)  # a stream that ended early answers no more
    if failed:
        raise ClientError(f"{failed} of {len(sent)} streamed requests failed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--url", default="localhost:8001", help="the frontend's gRPC address (default localhost:8001)")
    ap.add_argument("--app", default="tiny_cnn", help="application (model name in the protocol; default tiny_cnn)")
    ap.add_argument("--image", metavar="PATH", help="a JPEG to send (BYTES [1]); default: a random tensor of the input's shape")
    ap.add_argument("--stream", action="store_true", help="send over a bidirectional stream (ModelStreamInfer)")
    ap.add_argument("--count", type=int, default=1, metavar="N", help="requests to send (default 1)")
    ap.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds to wait for responses (default 30)")
    ap.add_argument("--values", type=int, default=8, metavar="K", help="values printed per output (default 8)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random input (default 0)")
    args = ap.parse_args()
    if args.count < 1:
        ap.error("--count must be at least 1")
    if args.image and not os.path.isfile(args.image):
        ap.error(f"--image {args.image}: no such file")

    client = None
    try:
        client = grpcclient.InferenceServerClient(url=args.url)
        print_server(client)
        meta = print_app(client, args.app)
        inputs, what = make_inputs(meta, args.image, np.random.default_rng(args.seed))
        print(f"sending {args.count} request(s){' on a stream' if args.stream else ''}: {what}")
        (run_stream if args.stream else run_sync)(client, args, inputs)
    except (InferenceServerException, ClientError) as error:
        print(f"error: {describe_error(error)}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
