import NexusCore

/// Everything a simulation run needs besides the workload.
public struct SimulationConfig: Sendable {
    public var policy: SimulationPolicy = .nexus
    /// Simulated seconds during which clients send requests; the run then drains what is in flight.
    public var durationSeconds: Double = 60
    public var seed: UInt64 = 1
    /// nil: the workload's `arrival`.
    public var arrival: ArrivalProcess?
    /// nil: the workload's `totalRatePerSecond`.
    public var totalRatePerSecond: Double?
    /// Hold this phase for the whole run instead of following the workload's timeline.
    public var pinnedPhase: Int?
    /// Start the workload's timeline at this second (phases before it are skipped).
    public var startSeconds: Double = 0
    /// Cluster size; nil: as many GPUs as the plan asks for.
    public var gpus: Int?
    public var epochTrigger = EpochTrigger()
    /// Frontends report request counts this often.
    public var beaconNs: Int64 = 2_000_000_000
    public var rateTimeConstantNs: Int64 = 10_000_000_000
    /// React to a significant rise in one beacon (see `EWMARateEstimator`).
    public var fastRise: Bool = true
    /// Capacity planned above the measured rate.
    public var rateHeadroom: Double = 0.05
    public var sloScale: Double = 1
    public var splitSteps: Int = 100
    /// Keep last epoch's latency split unless the new one needs this fraction fewer GPUs.
    public var splitHysteresis: Double = 0.02
    public var gpuMemoryMB: Double?
    public var consolidate: Bool = true
    /// Check every plan against DESIGN.md §3.2 and stop the run on a violation.
    public var checkPlans: Bool = false

    public init() {}
}
