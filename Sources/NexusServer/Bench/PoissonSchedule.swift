#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// xoshiro256** seeded through SplitMix64 (the simulator's generator; that one is internal to its target), so
/// `nexus bench --seed N` sends the same schedule and the same random input on every machine.
public struct BenchRandom: Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Exponential with this mean: -ln(U) x mean with U in (0, 1].
    @inline(__always)
    public mutating func exponential(mean: Double) -> Double { -log(Double((next() >> 11) + 1) * 0x1.0p-53) * mean }
}

/// The send times of an open-loop client: a Poisson process at `ratePerSecond` (independent exponential gaps),
/// in ns from the start of a run. Times are kept in a Double, so gaps below 1 ns do not round away and the
/// process does not drift at high rates. Pure: the load generator reads its clock and asks for what is due.
public struct PoissonSchedule: Sendable {
    public let ratePerSecond: Double
    private let meanGapNs: Double
    private var random: BenchRandom
    private var nextTimeNs: Double
    /// How many send times `next()` has handed out.
    public private(set) var count: UInt64 = 0

    public init(ratePerSecond: Double, seed: UInt64, startNs: Int64 = 0) {
        precondition(ratePerSecond > 0 && ratePerSecond.isFinite, "ratePerSecond must be > 0, got \(ratePerSecond)")
        self.ratePerSecond = ratePerSecond
        meanGapNs = 1e9 / ratePerSecond
        random = BenchRandom(seed: seed)
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
