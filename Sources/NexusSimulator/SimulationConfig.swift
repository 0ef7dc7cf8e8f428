import NexusCore

/// Everything a simulation run needs besides the workload. The scheduler and planning knobs are the
/// servers' own types with the servers' defaults: the simulator runs the control plane `nexus serve` runs.
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
    /// Cluster size; nil: as many GPUs as the plan asks for (an elastic cluster).
    public var gpus: Int?
    /// Beacons, rate tracking and the epoch trigger, as the scheduler server runs them.
    public var scheduler = SchedulerConfig()
    /// Headroom, split, consolidation...; the policy fixes the split and prefix batching of its own.
    public var planning = PlanningSettings()
    /// nil: the workload's `gpuMemoryMB`, else `planning.gpuMemoryMB`.
    public var gpuMemoryMB: Double?
    /// `triton-deployed`: each dynamic batcher's `max_queue_delay` as a fraction of its model's latency
    /// budget. nil: `Simulation.run` and `findMaxRate` sweep `tritonQueueDelaySweep` and keep the best, as a
    /// deployer tunes `max_queue_delay_microseconds` with perf_analyzer.
    public var tritonQueueDelayFraction: Double?
    public static let tritonQueueDelaySweep: [Double] = [0, 0.05, 0.1, 0.2, 0.35]
    /// Check every plan against DESIGN.md §3.2 and stop the run on a violation.
    public var checkPlans: Bool = false

    public init() {}
}
