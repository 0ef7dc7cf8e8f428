import NexusCore
/// How client requests of one application are spaced in time.
public enum ArrivalProcess: Sendable, Equatable, CustomStringConvertible {
    /// Exponential gaps.
    case poisson
    /// Evenly spaced.
    case uniform
    /// Gamma-distributed gaps with this coefficient of variation (> 1 is burstier than Poisson).
    case bursty(coefficientOfVariation: Double)
    /// Trace-like: Poisson within steps of `stepSeconds`, each application's rate multiplied by a factor that
    /// follows its own mean-reverting random walk in log space (`RateWalk`), `spread` its stationary standard
    /// deviation. Production video traffic drifts like this: minutes of calm, then a stream gets popular.
    case randomWalk(stepSeconds: Double, spread: Double)

    public var description: String {
        switch self {
        case .poisson: return "poisson"
        case .uniform: return "uniform"
        case let .bursty(cv): return "bursty (gamma, cv \(cv))"
        case let .randomWalk(step, spread): return "trace-like (random walk every \(step) s, spread \(spread))"
        }
    }

    /// Gap to the next request, in ns, at `ratePerSecond` (> 0).
    func gapNs(ratePerSecond: Double, random: inout RandomSource) -> Int64 {
        let meanNs = 1e9 / ratePerSecond
        let gap: Double
        switch self {
        case .poisson, .randomWalk: gap = random.exponential(mean: meanNs)
        case .uniform: gap = meanNs
        case let .bursty(cv):
            let shape = 1 / (cv * cv)
            gap = random.gamma(shape: shape, scale: meanNs / shape)
        }
        return max(1, Int64(gap.rounded()))
    }
}
