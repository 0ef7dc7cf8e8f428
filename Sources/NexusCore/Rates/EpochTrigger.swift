/// When to plan again (DESIGN.md §1): every `epochNs`, earlier when a session's measured rate leaves
/// `band` x the demand it was planned for, and never closer than `minimumIntervalNs` to the last plan.
///
/// One change to the design: a rate *above* the band means capacity is already missing and requests are
/// being dropped, so it may trigger a plan `riseIntervalNs` (one beacon) after the last one. The 10 s guard
/// still holds for falls, which cost nothing to follow late. Stability keeps every other session's
/// placement, so such a plan reloads only what rose.
public struct EpochTrigger: Sendable, Equatable {
    public var epochNs: Int64
    public var minimumIntervalNs: Int64
    public var riseIntervalNs: Int64
    public var band: ClosedRange<Double>

    public init(epochNs: Int64 = 30_000_000_000, minimumIntervalNs: Int64 = 10_000_000_000,
                riseIntervalNs: Int64 = 2_000_000_000, band: ClosedRange<Double> = 0.8...1.1) {
        precondition(epochNs > 0, "epochNs must be > 0, got \(epochNs)")
        precondition(minimumIntervalNs >= 0 && minimumIntervalNs <= epochNs,
                     "minimumIntervalNs must be in 0...epochNs, got \(minimumIntervalNs)")
        precondition(riseIntervalNs >= 0 && riseIntervalNs <= minimumIntervalNs,
                     "riseIntervalNs must be in 0...minimumIntervalNs, got \(riseIntervalNs)")
        self.epochNs = epochNs
        self.minimumIntervalNs = minimumIntervalNs
        self.riseIntervalNs = riseIntervalNs
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
        guard sinceNs >= riseIntervalNs else { return nil }
        for (index, rate) in rates.enumerated() where !isWithinBand(measured: rate.measuredPerSecond, planned: rate.plannedPerSecond) {
            if sinceNs >= minimumIntervalNs || isRise(measured: rate.measuredPerSecond, planned: rate.plannedPerSecond) {
                return .rateChanged(sessionIndex: index)
            }
        }
        return nil
    }

    func isRise(measured: Double, planned: Double) -> Bool {
        planned <= 0 ? measured > 0 : measured / planned > band.upperBound
    }

    public func isWithinBand(measured: Double, planned: Double) -> Bool {
        if planned <= 0 { return measured <= 0 }
        return band.contains(measured / planned)
    }
}
