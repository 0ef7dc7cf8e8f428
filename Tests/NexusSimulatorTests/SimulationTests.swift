import Foundation
import NexusConfig
import NexusCore
import Testing
@testable import NexusSimulator

let workloads = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("data/workloads")

func load(_ name: String) throws -> LoadedWorkload {
    try WorkloadLoader.load(path: workloads.appendingPathComponent("\(name).yaml").path)
}

func simulate(_ loaded: LoadedWorkload, _ change: (inout SimulationConfig) -> Void = { _ in }) throws -> SimulationResult {
    var config = SimulationConfig()
    config.durationSeconds = 10
    config.checkPlans = true
    change(&config)
    return try Simulation.run(workload: loaded.workload, curves: loaded.curves, config: config)
}

@Suite struct SimulationTests {
    @Test func everyRequestGetsExactlyOneOutcome() throws {
        let result = try simulate(try load("traffic")) { $0.totalRatePerSecond = 30_000; $0.gpus = 12 }
        for app in result.applications + [result.total] {
            #expect(app.requests == app.withinSLO + app.dropped + app.late, "\(app.name)")
        }
        #expect(result.total.requests > 250_000)
        #expect(result.simulated)
    }

    @Test func atLowLoadNothingIsDroppedOrLate() throws {
        for name in ["game", "traffic"] {
            let result = try simulate(try load(name)) { $0.totalRatePerSecond = 2000 }
            #expect(result.total.dropped == 0, "\(name)")
            #expect(result.total.late == 0, "\(name)")
            #expect(result.total.requests > 15_000)
        }
    }

    @Test(arguments: ["game", "traffic"])
    func atThePlannedRateAtLeast99PercentMeetTheirSLO(name: String) throws {
        let loaded = try load(name)
        let result = try simulate(loaded) { $0.gpus = nil }
        #expect(result.total.withinSLOFraction >= 0.99, "\(name): \(result.total.withinSLOFraction)")
        #expect(result.total.requests > Int(loaded.workload.totalRatePerSecond * 9))
        #expect(result.utilization > 0.9)
    }

    @Test func theSameSeedGivesTheSameRunAndAnotherSeedAnother() throws {
        let loaded = try load("traffic")
        let one = try simulate(loaded) { $0.totalRatePerSecond = 5000 }
        let two = try simulate(loaded) { $0.totalRatePerSecond = 5000 }
        let other = try simulate(loaded) { $0.totalRatePerSecond = 5000; $0.seed = 2 }
        #expect(one.total.requests == two.total.requests)
        #expect(one.total.p99Ms == two.total.p99Ms)
        #expect(one.calls == two.calls)
        #expect(one.total.requests != other.total.requests)
    }

    @Test func aPhaseChangeIsMeasuredAndReplanned() throws {
        // Rush hour starts 300 s in: more cars and faces per frame.
        let loaded = try load("traffic")
        let result = try simulate(loaded) { $0.startSeconds = 290; $0.durationSeconds = 40; $0.totalRatePerSecond = 8000 }
        let replan = try #require(result.epochLog.dropFirst().first)
        #expect(replan.reason == "rate")
        // Beacons every 2 s; the first one after the change (10 s in) that sees it triggers the plan.
        #expect(replan.atSeconds > 10 && replan.atSeconds <= 14)
        #expect(replan.gpus > result.epochLog[0].gpus)
        #expect(result.modelLoads > 0)
        // Only the seconds before the new plan miss: far more than 90% of 40 s of requests are fine.
        #expect(result.total.withinSLOFraction > 0.95)
    }

    @Test func theBatchObliviousBaselinesMissMoreSLOsThanNexusOnTheGameStudy() throws {
        let loaded = try load("game")
        let nexus = try simulate(loaded) { $0.totalRatePerSecond = 20_000; $0.gpus = 16 }
        for policy in [SimulationPolicy.tfLike, .clipperLike, .tritonLike] {
            let baseline = try simulate(loaded) { $0.totalRatePerSecond = 20_000; $0.policy = policy; $0.gpus = 16 }
            #expect(baseline.total.withinSLOFraction < nexus.total.withinSLOFraction, "\(policy)")
            #expect(baseline.gpusMean == 16, "baselines spread over the whole fixed cluster")
            #expect(baseline.busyFraction <= 1 + 1e-9)
        }
    }

    @Test func everyPolicyRuns() throws {
        let loaded = try load("traffic")
        for policy in SimulationPolicy.allCases {
            let result = try simulate(loaded) { $0.totalRatePerSecond = 3000; $0.policy = policy; $0.durationSeconds = 5 }
            #expect(result.policy == policy.rawValue)
            #expect(result.total.requests == result.total.withinSLO + result.total.dropped + result.total.late)
            #expect(result.total.withinSLOFraction > 0.9, "\(policy)")
        }
    }

    @Test func burstierArrivalsCostMoreSLOs() throws {
        let loaded = try load("game")
        let uniform = try simulate(loaded) { $0.totalRatePerSecond = 60_000; $0.arrival = .uniform; $0.gpus = nil }
        let bursty = try simulate(loaded) { $0.totalRatePerSecond = 60_000; $0.arrival = .bursty(coefficientOfVariation: 4); $0.gpus = nil }
        #expect(bursty.total.withinSLOFraction < uniform.total.withinSLOFraction)
    }

    @Test func aTooSmallClusterCarriesAFractionOfTheLoadAndDropsTheRest() throws {
        let result = try simulate(try load("game")) { $0.gpus = 4 }
        #expect(result.gpusMax <= 4)
        #expect(result.minAdmittedFraction < 0.5)
        #expect(result.total.dropped > 0)
        #expect(result.total.late == 0, "early drop answers at once instead of running late")
    }
}

@Suite struct MaxRateSearchTests {
    @Test func findsARateThatMeetsTheTargetWhereDoubleItDoesNot() throws {
        let loaded = try load("traffic")
        var config = SimulationConfig()
        config.durationSeconds = 4
        config.gpus = 2
        let outcome = try Simulation.findMaxRate(
            workload: loaded.workload, curves: loaded.curves, config: config,
            search: MaxRateSearch(startRatePerSecond: 1000, relativePrecision: 0.05))
        let rate = try #require(outcome.maxRatePerSecond)
        #expect(try #require(outcome.result).total.withinSLOFraction >= 0.99)
        #expect(outcome.trials.contains { $0.totalRatePerSecond > rate && $0.totalRatePerSecond <= rate * 1.1 && $0.withinSLOFraction < 0.99 })
        // Two GPUs of traffic: the lower bound says about 2 x 16 / 16 GPUs' share of 24,000/s at most.
        #expect(rate > 1000 && rate < 8000)
    }
}
