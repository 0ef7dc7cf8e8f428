import ArgumentParser
import NexusServer

/// `--http-listen`: where the frontend serves the HTTP/REST protocol (Triton's HTTP API, KServe v2) beside
/// gRPC. Triton's port 8000 by default; "" or "none" turns it off.
struct HTTPFlags: ParsableArguments {
    @Option(name: .long, help: "Address to serve the HTTP/REST protocol on (Triton's HTTP API, KServe v2; port 0: any free port); '' or 'none': no HTTP.")
    var httpListen = "0.0.0.0:8000"

    /// The address, or nil when HTTP is off.
    func address() throws -> HostPort? {
        guard !["", "none"].contains(httpListen) else { return nil }
        return try HostPort(parsing: httpListen, flag: "--http-listen")
    }
}
