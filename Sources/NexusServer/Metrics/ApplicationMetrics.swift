import Metrics
import NexusCore
import NexusRuntime

/// One application's metric handles on a frontend, made when the catalog arrives (`FrontendApplication`)
/// and reused by every request: no lookup and no registry lock on the request path. Counters and gauges
/// are atomics in swift-prometheus; a histogram observation takes that histogram's own short lock.
final class ApplicationMetrics: Sendable {
    /// Indexed by `RequestOutcome.rawValue`.
    let requests: [Counter]
    /// OK and answered within the application's latency SLO: the goodput.
    let withinSLO: Counter
    let duration: Timer
    let inFlight: Meter
    /// Per stage, in `spec.stages` order: one model call's time, frontend to backend and back.
    let stageDuration: [Timer]
    let sloNs: Int64

    /// `factory`: the process's (`MetricsSystem`), or a test's.
    init(application: String, stages: [String], latencySLOMs: Double, factory: any MetricsFactory = MetricsSystem.factory) {
        let app = ("application", application)
        requests = RequestOutcome.allCases.map {
            Counter(label: "nexus_frontend_requests_total", dimensions: [app, ("outcome", $0.label)], factory: factory)
        }
        withinSLO = Counter(label: "nexus_frontend_requests_within_slo_total", dimensions: [app], factory: factory)
        duration = Timer(label: "nexus_frontend_request_duration_seconds", dimensions: [app], factory: factory)
        inFlight = Meter(label: "nexus_frontend_requests_in_flight", dimensions: [app], factory: factory)
        stageDuration = stages.map {
            Timer(label: "nexus_frontend_stage_duration_seconds", dimensions: [app, ("stage", $0)], factory: factory)
        }
        sloNs = Int64(latencySLOMs * 1e6)
        Gauge(label: "nexus_frontend_latency_slo_seconds", dimensions: [app], factory: factory).record(latencySLOMs / 1000)
    }

    /// One answered request, whatever its outcome, with its time from arrival to answer.
    func record(_ outcome: RequestOutcome, durationNs: Int64) {
        requests[outcome.rawValue].increment()
        duration.recordNanoseconds(durationNs)
        if outcome == .ok, durationNs <= sloNs { withinSLO.increment() }
    }
}
