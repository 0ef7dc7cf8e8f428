import NexusCore

/// `nexus simulate --find-max-rate`: NexusCore's `MaxRateSearch` driven by simulated runs. Every trial uses
/// the same seed, so trials differ only in the rate.
extension Simulation {
    public struct Trial: Encodable, Sendable {
        public var totalRatePerSecond: Double
        public var withinSLOFraction: Double
    }

    public struct MaxRateOutcome: Encodable, Sendable {
        public var policy: String
        /// nil when even the lowest rate tried missed the target.
        public var maxRatePerSecond: Double?
        /// The run at `maxRatePerSecond`.
        public var result: SimulationResult?
        public var trials: [Trial]
    }

    /// The highest total rate at which at least `targetFraction` of requests finish within their SLO.
    public static func findMaxRate(workload: Workload, curves: ModelCurves, config: SimulationConfig,
                                   search: MaxRateSearch, targetFraction: Double = 0.99) throws -> MaxRateOutcome {
        precondition(targetFraction > 0 && targetFraction <= 1, "targetFraction must be in (0, 1], got \(targetFraction)")
        if let sweep = queueDelaySweep(config) {
            // The best delay is the one with the highest max rate (ties: the shorter delay, tried first).
            var best: MaxRateOutcome?
            for trial in sweep {
                let outcome = try findMaxRate(workload: workload, curves: curves, config: trial, search: search,
                                              targetFraction: targetFraction)
                if best == nil || (outcome.maxRatePerSecond ?? 0) > (best!.maxRatePerSecond ?? 0) { best = outcome }
            }
            return best!
        }
        var search = search
        var trials: [Trial] = []
        var results: [Double: SimulationResult] = [:]
        try search.run { rate in
            var trialConfig = config
            trialConfig.totalRatePerSecond = rate
            let result = try runOnce(workload: workload, curves: curves, config: trialConfig)
            trials.append(Trial(totalRatePerSecond: rate, withinSLOFraction: result.total.withinSLOFraction))
            results[rate] = result
            return result.total.withinSLOFraction >= targetFraction
        }
        let best = search.highestPassingPerSecond
        return MaxRateOutcome(policy: config.policy.rawValue, maxRatePerSecond: best, result: best.flatMap { results[$0] },
                              trials: trials)
    }
}
