#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exponentially weighted moving average of a request rate from per-beacon counts (DESIGN.md §3.6:
/// beacons every 2 s, time constant 10 s). Time comes in as interval lengths: no clock of its own.
///
/// With `fastRise`, a beacon whose rate is above the average by more than both 3 Poisson standard
/// deviations and 10% replaces the average at once: a rise is capacity already missing, while a fall can
/// be followed slowly without harm.
public struct EWMARateEstimator: Sendable, Equatable {
    public let timeConstantNs: Int64
    public let fastRise: Bool
    public private(set) var ratePerSecond: Double?

    public init(timeConstantNs: Int64 = 10_000_000_000, fastRise: Bool = false, initialRatePerSecond: Double? = nil) {
        precondition(timeConstantNs > 0, "timeConstantNs must be > 0, got \(timeConstantNs)")
        self.timeConstantNs = timeConstantNs
        self.fastRise = fastRise
        self.ratePerSecond = initialRatePerSecond
    }

    /// A rise seen between beacons (a cold start, a burst): the estimate becomes at least `ratePerSecond`.
    public mutating func raise(toAtLeast ratePerSecond: Double) {
        precondition(ratePerSecond >= 0 && ratePerSecond.isFinite, "ratePerSecond must be finite and >= 0, got \(ratePerSecond)")
        self.ratePerSecond = Swift.max(self.ratePerSecond ?? 0, ratePerSecond)
    }

    public mutating func record(count: Int, intervalNs: Int64) {
        precondition(count >= 0, "count must be >= 0, got \(count)")
        guard intervalNs > 0 else { return }
        let seconds = Double(intervalNs) / 1e9
        let observed = Double(count) / seconds
        guard let current = ratePerSecond else {
            ratePerSecond = observed
            return
        }
        if fastRise {
            let sigma = Double(count).squareRoot() / seconds
            if observed > current + Swift.max(3 * sigma, 0.1 * current) {
                ratePerSecond = observed
                return
            }
        }
        let weight = 1 - exp(-Double(intervalNs) / Double(timeConstantNs))
        ratePerSecond = current + weight * (observed - current)
    }
}
