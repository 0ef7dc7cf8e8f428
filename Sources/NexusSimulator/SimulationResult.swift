import NexusCore

/// What one policy did on one workload, in simulation. `simulated` is always true: these numbers come
/// from profile-driven simulated GPUs, not hardware.
public struct SimulationResult: Encodable, Sendable {
    public var simulated = true
    public var policy: String
    public var workload: String
    public var seed: UInt64
    public var durationSeconds: Double
    public var arrival: String
    /// Client requests per second at the start of the run (phases may change it).
    public var totalRatePerSecond: Double
    public var gpusMean: Double
    public var gpusMax: Int
    /// Time-averaged lower bound of the measured demand (no headroom).
    public var lowerBoundGPUsMean: Double
    /// Time-averaged lower bound of the demand over time-averaged GPUs in the plan.
    public var utilization: Double
    /// Fraction of the plan's GPU-time spent executing batches (a batch still finishing on a GPU that has just
    /// left the plan counts too, so this can exceed the plan's share by a hair around a re-plan).
    public var busyFraction: Double
    public var epochs: Int
    /// (backend, session) placements new in a re-plan: what a real cluster would have to load.
    public var modelLoads: Int
    public var minAdmittedFraction: Double
    /// `triton-deployed`: the dynamic batchers' queue delay (fraction of each model's budget) this run used.
    public var tritonQueueDelayFraction: Double?
    /// `shepherd-like`: batches stopped for a larger one.
    public var preemptions: Int
    public var calls: Int
    public var meanBatchSize: Double
    public var applications: [ApplicationResult]
    public var total: ApplicationResult
    /// Every plan of the run: GPUs and lower bound over time.
    public var epochLog: [EpochRecord]
    /// Requests by the 10 s window they arrived in: where in time the misses are.
    public var timeline: [TimelineBucket]
    public var wallSeconds: Double

    /// Model calls simulated per second of wall time (the simulator is single-threaded: per core).
    public var callsPerWallSecond: Double { wallSeconds > 0 ? Double(calls) / wallSeconds : 0 }
}

public struct ApplicationResult: Encodable, Sendable {
    public var name: String
    public var requests: Int
    public var withinSLO: Int
    public var dropped: Int
    public var late: Int
    /// Latency of requests that completed (dropped ones have none), in ms.
    @NullEncoded public var p50Ms: Double?
    @NullEncoded public var p99Ms: Double?
    /// Dropped or late, as a percentage of requests.
    public let outsideSLOPercent: Double
    /// The SLO (scaled) these requests were held to; for the total, nil unless every application shares one.
    public var latencySLOMs: Double?
    /// The total's latency distribution for CDFs (python/plot.py): each non-empty histogram bucket's value and count.
    public var latencyHistogram: [HistogramPoint]?

    public var withinSLOFraction: Double { requests > 0 ? Double(withinSLO) / Double(requests) : 1 }

    public struct HistogramPoint: Encodable, Sendable {
        public var ms: Double
        public var count: UInt64
    }

    init(name: String, requests: Int, withinSLO: Int, dropped: Int, late: Int, histogram: LatencyHistogram,
         latencySLOMs: Double?, keepHistogram: Bool = false) {
        self.latencySLOMs = latencySLOMs
        if keepHistogram { latencyHistogram = histogram.nonEmptyBuckets.map { HistogramPoint(ms: Double($0.valueNs) / 1e6, count: $0.count) } }
        self.name = name
        self.requests = requests
        self.withinSLO = withinSLO
        self.dropped = dropped
        self.late = late
        p50Ms = histogram.quantileNs(0.5).map { Double($0) / 1e6 }
        p99Ms = histogram.quantileNs(0.99).map { Double($0) / 1e6 }
        outsideSLOPercent = requests > 0 ? 100 * Double(dropped + late) / Double(requests) : 0
    }

}
