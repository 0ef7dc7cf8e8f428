import NexusCore

/// `nexus simulate --find-min-gpus`: the autoscaling question, how few GPUs keep `targetFraction` of requests
/// within SLO at the configured load. Fewer GPUs never help in these policies, so the search doubles until a
/// size passes, then bisects between the last failing and the first passing size.
extension Simulation {
    public struct GPUTrial: Encodable, Sendable {
        public var gpus: Int
        public var withinSLOFraction: Double
    }

    public struct MinGPUsOutcome: Encodable, Sendable {
        public var policy: String
        public var totalRatePerSecond: Double
        /// nil when even `maxGPUs` missed the target.
        public var minGPUs: Int?
        /// The run at `minGPUs`.
        public var result: SimulationResult?
        public var trials: [GPUTrial]
    }

    public static func findMinGPUs(workload: Workload, curves: ModelCurves, config: SimulationConfig, maxGPUs: Int,
                                   targetFraction: Double = 0.99) throws -> MinGPUsOutcome {
        precondition(targetFraction > 0 && targetFraction <= 1, "targetFraction must be in (0, 1], got \(targetFraction)")
        precondition(maxGPUs >= 1, "maxGPUs must be >= 1, got \(maxGPUs)")
        var trials: [GPUTrial] = []
        var results: [Int: SimulationResult] = [:]
        func passes(_ gpus: Int) throws -> Bool {
            if let known = results[gpus] { return known.total.withinSLOFraction >= targetFraction }
            var trial = config
            trial.gpus = gpus
            let result = try run(workload: workload, curves: curves, config: trial)
            trials.append(GPUTrial(gpus: gpus, withinSLOFraction: result.total.withinSLOFraction))
            results[gpus] = result
            return result.total.withinSLOFraction >= targetFraction
        }
        var failing = 0
        var passing: Int?
        var size = 1
        while passing == nil {
            if try passes(size) { passing = size } else { failing = size }
            if size == maxGPUs { break }
            size = min(size * 2, maxGPUs)
        }
        guard var high = passing else {
            return MinGPUsOutcome(policy: config.policy.rawValue, totalRatePerSecond: results[maxGPUs]!.totalRatePerSecond,
                                  minGPUs: nil, result: nil, trials: trials)
        }
        var low = failing
        while high - low > 1 {
            let mid = (low + high) / 2
            if try passes(mid) { high = mid } else { low = mid }
        }
        return MinGPUsOutcome(policy: config.policy.rawValue, totalRatePerSecond: results[high]!.totalRatePerSecond,
                              minGPUs: high, result: results[high], trials: trials)
    }
}
