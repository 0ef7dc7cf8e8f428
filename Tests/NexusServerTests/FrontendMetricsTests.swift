import MetricsTestKit
@testable import NexusServer
import NexusRuntime
import Testing

/// The frontend's request metrics: outcomes classified through the one error-to-status mapping, goodput
/// counted only for OK answers within the SLO.
@Suite struct FrontendMetricsTests {
    @Test func eachErrorIsTheOutcomeOfItsStatusCode() {
        let cases: [(InferenceError, String)] = [
            (.earlyDrop, "dropped"),
            (.deadlineExceeded("stage 'a/b' has no time left before its deadline"), "deadline_exceeded"),
            (.invalidArgument("x"), "invalid"),
            (.notFound("x"), "not_found"),
            (.unavailable("x"), "unavailable"),
            (.resourceExhausted("x"), "resource_exhausted"),
            (.internalError("x"), "internal"),
        ]
        for (error, label) in cases {
            #expect(RequestOutcome(error).label == label, "\(error)")
        }
        #expect(RequestOutcome(Result<Int, InferenceError>.success(1)) == .ok)
        #expect(Set(RequestOutcome.allCases.map(\.label)).count == RequestOutcome.allCases.count)
    }

    @Test func anEarlyDropKeepsItsMarkAcrossTheBackendWire() {
        let wire = InferenceError(statusCode: InferenceError.earlyDrop.statusCode, message: InferenceError.earlyDrop.message)
        #expect(RequestOutcome(wire) == .dropped)
    }

    @Test func goodputCountsOnlyOKAnswersWithinTheSLO() throws {
        let metrics = TestMetrics()
        let app = ApplicationMetrics(application: "game", stages: ["detect", "classify"], latencySLOMs: 50, factory: metrics)
        app.record(.ok, durationNs: 40_000_000)
        app.record(.ok, durationNs: 50_000_000)
        app.record(.ok, durationNs: 60_000_000)
        app.record(.dropped, durationNs: 10_000_000)
        let ok = try metrics.expectCounter("nexus_frontend_requests_total", [("application", "game"), ("outcome", "ok")])
        let dropped = try metrics.expectCounter("nexus_frontend_requests_total", [("application", "game"), ("outcome", "dropped")])
        #expect(ok.totalValue == 3)
        #expect(dropped.totalValue == 1)
        #expect(try metrics.expectCounter("nexus_frontend_requests_within_slo_total", [("application", "game")]).totalValue == 2)
        #expect(try metrics.expectTimer("nexus_frontend_request_duration_seconds", [("application", "game")]).values
            == [40_000_000, 50_000_000, 60_000_000, 10_000_000])
        #expect(try metrics.expectGauge("nexus_frontend_latency_slo_seconds", [("application", "game")]).lastValue == 0.05)
        #expect(app.stageDuration.count == 2)
    }
}
