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
    var arrival: String
    var targetFraction: Double
    /// `CapacityBound`: every GPU busy all the time at each model's best batch within the SLO.
    var capacityBoundPerSecond: Double
    var outcomes: [Simulation.MaxRateOutcome]
    /// Each policy's max rate divided into nexus's (null when either is missing).
    var nexusSpeedup: [String: NullEncoded<Double>]

    init(workload: String, gpus: Int, arrival: String, targetFraction: Double, capacityBoundPerSecond: Double,
         outcomes: [Simulation.MaxRateOutcome]) {
        self.workload = workload
        self.gpus = gpus
        self.arrival = arrival
        self.capacityBoundPerSecond = capacityBoundPerSecond
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

/// `nexus simulate --find-min-gpus --json`.
struct MinGPUsReport: Encodable {
    var simulated = true
    var workload: String
    var arrival: String
    var targetFraction: Double
    var outcomes: [Simulation.MinGPUsOutcome]
}
