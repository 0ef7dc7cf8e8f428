import Metrics
import Prometheus

/// The one place a process chooses its metrics backend: swift-prometheus behind swift-metrics, so the
/// libraries record through swift-metrics' API only and a user's own backend plugs in the same way.
public enum MetricsBootstrap {
    /// Installs a Prometheus factory as the process's `MetricsSystem` and returns the registry it fills.
    /// Once per process (swift-metrics refuses a second bootstrap); a process that never calls it records
    /// into swift-metrics' no-op handlers.
    public static func prometheus() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(factory(registry: registry))
        return registry
    }

    /// The factory with Nexus's buckets: latencies from 1 ms to 10 s (SLOs are tens to hundreds of ms),
    /// batch sizes in powers of two up to the largest batch a profile has.
    public static func factory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = MetricBuckets.latencyMs.map { .microseconds(Int64($0 * 1000)) }
        factory.defaultValueHistogramBuckets = MetricBuckets.batchSize
        return factory
    }
}

/// Histogram bucket bounds shared by every Nexus process.
public enum MetricBuckets {
    /// Upper bounds in milliseconds; exported in seconds (Prometheus's base unit).
    public static let latencyMs: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]
    /// Requests per batch (value histograms: swift-metrics' aggregating `Recorder`).
    public static let batchSize: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
}
