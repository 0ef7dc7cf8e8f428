"""The round trip of a trivial gRPC call on this machine: ServerLive against a Nexus frontend (--target), and
against a Python grpcio server with an empty handler started here, in the same run. It tells how much of
`nexus bench`'s latency is the cost of a gRPC message on the box rather than Nexus's (docs/results.md).

    .venv-test/bin/python python/grpc_floor.py --target 127.0.0.1:8001 [--calls 300]

Needs tritonclient[grpc] (its service stubs) and grpcio.
"""
import argparse
import time
from concurrent import futures

import grpc
from tritonclient.grpc import service_pb2, service_pb2_grpc


class EmptyServer(service_pb2_grpc.GRPCInferenceServiceServicer):
    def ServerLive(self, request, context):
        return service_pb2.ServerLiveResponse(live=True)


def round_trips(address, calls, gap_s):
    stub = service_pb2_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(address))
    stub.ServerLive(service_pb2.ServerLiveRequest())  # connect outside the measurement
    times = []
    for _ in range(calls):
        if gap_s:
            time.sleep(gap_s)
        start = time.perf_counter()
        stub.ServerLive(service_pb2.ServerLiveRequest())
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2] * 1e6, times[len(times) * 9 // 10] * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="HOST:PORT of a Nexus frontend (or any OIP server)")
    parser.add_argument("--calls", type=int, default=300, help="calls per gap")
    args = parser.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(EmptyServer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        for gap_s in (0.01, 0.001, 0.0):
            for name, address in (("target", args.target), ("python grpcio", f"127.0.0.1:{port}")):
                p50, p90 = round_trips(address, args.calls, gap_s)
                print(f"gap {gap_s * 1000:g} ms  {name:>13}: ServerLive round trip p50 {p50:.0f} us, p90 {p90:.0f} us")
    finally:
        server.stop(0)


if __name__ == "__main__":
    main()
