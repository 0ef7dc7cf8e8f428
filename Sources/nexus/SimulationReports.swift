import NexusCore
import NexusSimulator

/// `nexus simulate --json`.
struct SimulationReport: Encodable {
    var simulated = true
    var results: [SimulationResult]
}

struct MaxRateReport: Encodable {
    var simulated = true
    var workload: String
    var gpus: Int
    var targetFraction: Double
    var outcomes: [Simulation.MaxRateOutcome]
    /// Each policy's max rate divided into nexus's (null when either is missing).
    var nexusSpeedup: [String: NullEncoded<Double>]

    init(workload: String, gpus: Int, targetFraction: Double, outcomes: [Simulation.MaxRateOutcome]) {
        self.workload = workload
        self.gpus = gpus
        self.targetFraction = targetFraction
        self.outcomes = outcomes
        let nexus = outcomes.first { $0.policy == SimulationPolicy.nexus.rawValue }?.maxRatePerSecond
        var speedups: [String: NullEncoded<Double>] = [:]
        for outcome in outcomes {
            let ratio = nexus.flatMap { nexus in outcome.maxRatePerSecond.flatMap { $0 > 0 ? nexus / $0 : nil } }
            speedups[outcome.policy] = NullEncoded(wrappedValue: ratio)
        }
        nexusSpeedup = speedups
    }
}
