import ArgumentParser
import Logging
import NexusMetricsEndpoint
import NexusServer
import ServiceLifecycle

/// `--metrics-listen` for every serving process (`serve`, `scheduler`, `frontend`, `backend`): off by
/// default, so a process without it records into swift-metrics' no-op handlers.
struct MetricsFlags: ParsableArguments {
    @Option(name: .long, help: "HOST:PORT to serve Prometheus metrics on (GET /metrics; docs/metrics.md lists them). Off unless given.")
    var metricsListen: String?

    /// Bootstraps the process's metrics system (once, before any server makes its handles) and returns the
    /// endpoint's service: list it first, so that it stops last and a draining process can be scraped.
    func services() throws -> [any Service] {
        guard let metricsListen else { return [] }
        let address = try HostPort(parsing: metricsListen, flag: "--metrics-listen")
        let registry = MetricsBootstrap.prometheus()
        return [MetricsEndpoint(registry: registry, host: address.host, port: address.port)]
    }
}
