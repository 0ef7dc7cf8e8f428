import NexusCore

/// The paper's metric: the highest total request rate at which at least `targetFraction` of requests
/// finish within their SLO on a fixed cluster. Brackets by doubling or halving from a start rate, then
/// bisects to `relativePrecision`. Every trial uses the same seed, so trials differ only in the rate.
public struct MaxRateSearch: Sendable {
    public var targetFraction: Double = 0.99
    public var relativePrecision: Double = 0.01

    public init(targetFraction: Double = 0.99, relativePrecision: Double = 0.01) {
        precondition(targetFraction > 0 && targetFraction <= 1, "targetFraction must be in (0, 1], got \(targetFraction)")
        precondition(relativePrecision > 0, "relativePrecision must be > 0, got \(relativePrecision)")
        self.targetFraction = targetFraction
        self.relativePrecision = relativePrecision
    }

    public struct Trial: Encodable, Sendable {
        public var totalRatePerSecond: Double
        public var withinSLOFraction: Double
    }

    public struct Outcome: Encodable, Sendable {
        public var policy: String
        /// nil when even the lowest rate tried missed the target.
        public var maxRatePerSecond: Double?
        /// The run at `maxRatePerSecond`.
        public var result: SimulationResult?
        public var trials: [Trial]
    }

    public func search(workload: Workload, curves: ModelCurves, config: SimulationConfig,
                       startRatePerSecond: Double) throws -> Outcome {
        var trials: [Trial] = []
        var results: [Double: SimulationResult] = [:]
        func meets(_ rate: Double) throws -> Bool {
            var trialConfig = config
            trialConfig.totalRatePerSecond = rate
            let result = try Simulation.run(workload: workload, curves: curves, config: trialConfig)
            trials.append(Trial(totalRatePerSecond: rate, withinSLOFraction: result.total.withinSLOFraction))
            results[rate] = result
            return result.total.withinSLOFraction >= targetFraction
        }
        var good: Double?
        var bad: Double?
        var rate = max(startRatePerSecond, 1)
        for _ in 0..<30 {
            if try meets(rate) {
                good = rate
                if bad != nil { break }
                rate *= 2
            } else {
                bad = rate
                if good != nil { break }
                rate /= 2
                if rate < 1 { break }
            }
        }
        guard var low = good else {
            return Outcome(policy: config.policy.rawValue, maxRatePerSecond: nil, result: nil, trials: trials)
        }
        if var high = bad {
            while (high - low) / low > relativePrecision {
                let middle = (low + high) / 2
                if try meets(middle) { low = middle } else { high = middle }
            }
        }
        return Outcome(policy: config.policy.rawValue, maxRatePerSecond: low, result: results[low], trials: trials)
    }
}
