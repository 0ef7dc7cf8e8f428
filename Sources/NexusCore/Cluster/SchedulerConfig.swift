/// Timing and rate-tracking knobs of the scheduler (DESIGN.md §1, §3.6), the same in `nexus serve`, `nexus
/// scheduler` and `nexus simulate`.
public struct SchedulerConfig: Sendable, Equatable {
    /// What bounds the number of backends a plan may use.
    public enum BackendLimit: Sendable, Equatable {
        /// The live backends: a real cluster, or a simulated one of fixed size.
        case liveBackends
        /// None: the plan asks for what it needs and `SchedulerState.backendsShort` says how many more
        /// backends it wants (the simulator's elastic cluster provides them).
        case unbounded
    }

    /// How often nodes beat and frontends report (2 s in the paper).
    public var beaconNs: Int64
    /// A node silent this many beacons is dead; its sessions are planned again without it.
    public var deadAfterBeacons: Int
    /// Every stage is planned for at least this rate, so each session has a backend before its first request.
    public var minimumRatePerSecond: Double
    public var trigger: EpochTrigger
    public var rateTimeConstantNs: Int64
    /// A significant rise replaces the rate estimate at once (`EWMARateEstimator.fastRise`).
    public var fastRise: Bool
    public var backendLimit: BackendLimit
    /// Frontends report their counts this many times a beacon, so a sudden rise reaches the scheduler
    /// within a fraction of a beacon (`SchedulerState.checkSuddenRise`).
    public static let reportsPerBeacon = 4

    public init(beaconNs: Int64 = 2_000_000_000, deadAfterBeacons: Int = 3, minimumRatePerSecond: Double = 1,
                trigger: EpochTrigger = EpochTrigger(), rateTimeConstantNs: Int64 = 10_000_000_000, fastRise: Bool = true,
                backendLimit: BackendLimit = .liveBackends) {
        precondition(beaconNs > 0, "beaconNs must be > 0, got \(beaconNs)")
        precondition(deadAfterBeacons >= 1, "deadAfterBeacons must be >= 1, got \(deadAfterBeacons)")
        precondition(minimumRatePerSecond > 0, "minimumRatePerSecond must be > 0, got \(minimumRatePerSecond)")
        precondition(rateTimeConstantNs > 0, "rateTimeConstantNs must be > 0, got \(rateTimeConstantNs)")
        self.beaconNs = beaconNs
        self.deadAfterBeacons = deadAfterBeacons
        self.minimumRatePerSecond = minimumRatePerSecond
        self.trigger = trigger
        self.rateTimeConstantNs = rateTimeConstantNs
        self.fastRise = fastRise
        self.backendLimit = backendLimit
    }
}
