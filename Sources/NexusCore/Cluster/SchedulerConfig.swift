/// Timing and planning knobs of the scheduler process (DESIGN.md §1, §3.6).
public struct SchedulerConfig: Sendable {
    /// How often nodes beat and frontends report (2 s in the paper).
    public var beaconNs: Int64
    /// A node silent this many beacons is dead; its sessions are planned again without it.
    public var deadAfterBeacons: Int
    /// Every stage is planned for at least this rate, so each session has a backend before its first request.
    public var minimumRatePerSecond: Double
    public var trigger: EpochTrigger
    public var rateTimeConstantNs: Int64

    public init(beaconNs: Int64 = 2_000_000_000, deadAfterBeacons: Int = 3, minimumRatePerSecond: Double = 1,
                trigger: EpochTrigger = EpochTrigger(), rateTimeConstantNs: Int64 = 10_000_000_000) {
        precondition(beaconNs > 0, "beaconNs must be > 0, got \(beaconNs)")
        precondition(deadAfterBeacons >= 1, "deadAfterBeacons must be >= 1, got \(deadAfterBeacons)")
        precondition(minimumRatePerSecond > 0, "minimumRatePerSecond must be > 0, got \(minimumRatePerSecond)")
        self.beaconNs = beaconNs
        self.deadAfterBeacons = deadAfterBeacons
        self.minimumRatePerSecond = minimumRatePerSecond
        self.trigger = trigger
        self.rateTimeConstantNs = rateTimeConstantNs
    }
}
