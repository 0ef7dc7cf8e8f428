import NexusCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import NexusServer
#endif

/// The send times of an open-loop client: a Poisson process at `ratePerSecond` (independent exponential gaps),
/// in ns from the start of a run. Times are kept in a Double, so gaps below 1 ns do not round away and the
/// process does not drift at high rates. Pure: the load generator reads its clock and asks for what is due.
public struct PoissonSchedule: Sendable {
    public let ratePerSecond: Double
    private let meanGapNs: Double
    private var random: RandomSource
    private var nextTimeNs: Double
    /// How many send times `next()` has handed out.
    public private(set) var count: UInt64 = 0

    public init(ratePerSecond: Double, seed: UInt64, startNs: Int64 = 0) {
        precondition(ratePerSecond > 0 && ratePerSecond.isFinite, "ratePerSecond must be > 0, got \(ratePerSecond)")
        self.ratePerSecond = ratePerSecond
        meanGapNs = 1e9 / ratePerSecond
        random = RandomSource(seed: seed)
        nextTimeNs = Double(startNs)
        nextTimeNs += random.exponential(mean: meanGapNs)
    }

    /// The next send time, not yet handed out.
    @inline(__always)
    public var peekNs: Int64 { Int64(nextTimeNs) }

    /// Hands out the next send time and draws the one after it.
    @inline(__always)
    public mutating func next() -> Int64 {
        let time = Int64(nextTimeNs)
        nextTimeNs += random.exponential(mean: meanGapNs)
        count += 1
        return time
    }
}
