/// When to plan again (DESIGN.md §1): every `epochNs`, earlier when a session's measured rate leaves
/// `band` x the demand it was planned for, and never closer than `minimumIntervalNs` to the last plan.
public struct EpochTrigger: Sendable, Equatable {
    public var epochNs: Int64
    public var minimumIntervalNs: Int64
    public var band: ClosedRange<Double>

    public init(epochNs: Int64 = 30_000_000_000, minimumIntervalNs: Int64 = 10_000_000_000,
                band: ClosedRange<Double> = 0.8...1.1) {
        precondition(epochNs > 0, "epochNs must be > 0, got \(epochNs)")
        precondition(minimumIntervalNs >= 0 && minimumIntervalNs <= epochNs,
                     "minimumIntervalNs must be in 0...epochNs, got \(minimumIntervalNs)")
        self.epochNs = epochNs
        self.minimumIntervalNs = minimumIntervalNs
        self.band = band
    }

    public enum Reason: Equatable, Sendable {
        case epochElapsed
        /// The session at this index of the input left the band.
        case rateChanged(sessionIndex: Int)
    }

    /// `rates`: per session, the measured rate and the demand the current plan was made for.
    public func replanReason(nowNs: Int64, lastPlanNs: Int64,
                             rates: [(measuredPerSecond: Double, plannedPerSecond: Double)]) -> Reason? {
        let sinceNs = nowNs - lastPlanNs
        if sinceNs >= epochNs { return .epochElapsed }
        guard sinceNs >= minimumIntervalNs else { return nil }
        for (index, rate) in rates.enumerated() where !isWithinBand(measured: rate.measuredPerSecond, planned: rate.plannedPerSecond) {
            return .rateChanged(sessionIndex: index)
        }
        return nil
    }

    public func isWithinBand(measured: Double, planned: Double) -> Bool {
        if planned <= 0 { return measured <= 0 }
        return band.contains(measured / planned)
    }
}
