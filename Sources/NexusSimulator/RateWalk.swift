import NexusCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One application's rate factor under trace-like arrivals: `x <- phi * x + sigma * N(0, 1)` each step, factor
/// `exp(x - v / 2)` where `v = spread^2` is the walk's stationary variance, so the factor averages 1 and the
/// workload's mean rate is kept; `phi` 0.8 makes a step's rate remember about five steps back.
struct RateWalk {
    static let persistence = 0.8
    let spread: Double
    private(set) var logFactor = 0.0

    init(spread: Double) { self.spread = spread }

    var factor: Double { exp(logFactor - spread * spread / 2) }

    mutating func step(random: inout RandomSource) {
        let sigma = spread * (1 - Self.persistence * Self.persistence).squareRoot()
        logFactor = Self.persistence * logFactor + sigma * random.standardNormal()
    }
}
