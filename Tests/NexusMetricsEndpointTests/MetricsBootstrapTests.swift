import Metrics
import NexusMetricsEndpoint
import Prometheus
import Testing

/// The Prometheus factory every process bootstraps: its histograms fit millisecond SLOs and batch sizes.
@Suite struct MetricsBootstrapTests {
    @Test func latencyHistogramsSpanOneMillisecondToTenSecondsInSeconds() {
        let registry = PrometheusCollectorRegistry()
        let factory = MetricsBootstrap.factory(registry: registry)
        Timer(label: "nexus_test_duration_seconds", dimensions: [("application", "a")], factory: factory)
            .recordNanoseconds(3_000_000)
        let text = registry.emitToString()
        #expect(text.contains("# TYPE nexus_test_duration_seconds histogram"))
        #expect(text.contains(#"nexus_test_duration_seconds_bucket{application="a",le="0.001"} 0"#))
        #expect(text.contains(#"nexus_test_duration_seconds_bucket{application="a",le="0.005"} 1"#))
        #expect(text.contains(#"nexus_test_duration_seconds_bucket{application="a",le="10.0"} 1"#))
        #expect(text.contains(#"nexus_test_duration_seconds_sum{application="a"} 0.003"#))
    }

    @Test func batchSizesAreBucketedInPowersOfTwo() {
        let registry = PrometheusCollectorRegistry()
        let factory = MetricsBootstrap.factory(registry: registry)
        Recorder(label: "nexus_test_batch_size", dimensions: [], aggregate: true, factory: factory).record(3)
        let text = registry.emitToString()
        #expect(text.contains(#"nexus_test_batch_size_bucket{le="2.0"} 0"#))
        #expect(text.contains(#"nexus_test_batch_size_bucket{le="4.0"} 1"#))
        #expect(text.contains(#"nexus_test_batch_size_bucket{le="512.0"} 1"#))
    }
}
