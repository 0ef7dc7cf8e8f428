/// The Open Inference Protocol parameters Nexus reads and writes (README: Serving, Timing): one place for
/// the names that the frontend writes and `nexus bench` parses.
public enum NexusParameters {
    /// Response: "torch" or "simulated".
    public static let runtime = "nexus_runtime"
    /// Response: the application's end-to-end SLO (double, ms).
    public static let latencySLOMs = "nexus_latency_slo_ms"
    /// Request: true asks for the three timing parameters below in the response.
    public static let timing = "nexus_timing"
    /// Response (int64): the request's time in the frontend, its calls' round trips, the backends' share.
    public static let frontendNs = "nexus_frontend_ns"
    public static let callNs = "nexus_call_ns"
    public static let backendNs = "nexus_backend_ns"
}
