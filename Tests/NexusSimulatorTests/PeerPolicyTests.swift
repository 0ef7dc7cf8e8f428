import NexusConfig
import NexusCore
import Testing
@testable import NexusSimulator

/// Issue 13's peers and nexus-next in the simulator: same workloads, seeds and accounting as Nexus.
@Suite struct PeerPolicyTests {
    static let peers: [SimulationPolicy] = [.symphonyLike, .shepherdLike, .tritonDeployed, .nexusCentral, .nexusNext]

    @Test func everyPeerAnswersEveryRequestExactlyOnceUnderOverload() throws {
        let loaded = try load("traffic")
        for policy in Self.peers {
            let result = try simulate(loaded) { $0.policy = policy; $0.totalRatePerSecond = 40_000; $0.gpus = 8; $0.durationSeconds = 4 }
            for app in result.applications + [result.total] {
                #expect(app.requests == app.withinSLO + app.dropped + app.late, "\(policy) \(app.name)")
            }
            #expect(result.total.dropped > 0, "\(policy): 8 GPUs cannot carry 40,000/s of traffic")
            #expect(result.gpusMean == 8, "\(policy)")
        }
    }

    /// Low-rate sessions hit by Gamma bursts: Nexus plans each for its mean rate on the GPUs it needs, so a
    /// burst waits a duty cycle per planned batch; nexus-next spreads over the spare GPUs and grows batches
    /// into the slack. Measured (10 s, seed 1): nexus 5.4% outside SLO, nexus-next 0.
    @Test func nexusNextAbsorbsBurstsThatNexusDrops() throws {
        let loaded = try load("mixed")
        func run(_ policy: SimulationPolicy) throws -> SimulationResult {
            try simulate(loaded) {
                $0.policy = policy; $0.pinnedPhase = 0; $0.gpus = 16; $0.totalRatePerSecond = 3000
                $0.arrival = .bursty(coefficientOfVariation: 2); $0.checkPlans = false
            }
        }
        let nexus = try run(.nexus), next = try run(.nexusNext)
        #expect(nexus.total.outsideSLOPercent > 1)
        #expect(next.total.outsideSLOPercent < nexus.total.outsideSLOPercent / 4)
        #expect(next.gpusMean > nexus.gpusMean, "nexus-next fills the spare GPUs")
        #expect(next.minAdmittedFraction >= 1)
    }

    @Test func shepherdPreemptsAndSymphonyDefersIntoLargerBatches() throws {
        let loaded = try load("game")
        let shepherd = try simulate(loaded) { $0.policy = .shepherdLike; $0.totalRatePerSecond = 20_000; $0.gpus = 16; $0.durationSeconds = 3 }
        #expect(shepherd.preemptions > 0)
        let symphony = try simulate(loaded) { $0.policy = .symphonyLike; $0.totalRatePerSecond = 20_000; $0.gpus = 16; $0.durationSeconds = 3 }
        #expect(symphony.preemptions == 0)
        // Deferring to the end of the window batches several times more than eager dispatch does.
        #expect(symphony.meanBatchSize > 3 * shepherd.meanBatchSize)
    }

    @Test func tritonDeployedKeepsTheBestQueueDelayOfItsSweep() throws {
        let loaded = try load("traffic")
        let swept = try simulate(loaded) { $0.policy = .tritonDeployed; $0.totalRatePerSecond = 20_000; $0.gpus = 12; $0.durationSeconds = 3 }
        let fraction = try #require(swept.tritonQueueDelayFraction)
        #expect(SimulationConfig.tritonQueueDelaySweep.contains(fraction))
        for other in SimulationConfig.tritonQueueDelaySweep {
            let fixed = try simulate(loaded) {
                $0.policy = .tritonDeployed; $0.totalRatePerSecond = 20_000; $0.gpus = 12; $0.durationSeconds = 3
                $0.tritonQueueDelayFraction = other
            }
            #expect(fixed.total.withinSLOFraction <= swept.total.withinSLOFraction, "delay \(other)")
        }
    }

    @Test func traceLikeArrivalsMoveTheRatesAroundTheMean() throws {
        let loaded = try load("traffic")
        let poisson = try simulate(loaded) { $0.totalRatePerSecond = 5000; $0.durationSeconds = 40 }
        let trace = try simulate(loaded) {
            $0.totalRatePerSecond = 5000; $0.durationSeconds = 40; $0.arrival = .randomWalk(stepSeconds: 2, spread: 0.5)
        }
        #expect(trace.arrival.hasPrefix("trace-like"))
        #expect(trace.total.requests != poisson.total.requests)
        #expect(abs(Double(trace.total.requests) / Double(poisson.total.requests) - 1) < 0.5)
        // The 10 s windows differ far more than Poisson noise (~0.5% at 50,000 requests a window).
        let counts = trace.timeline.prefix(4).map { Double($0.requests) }
        #expect((counts.max()! - counts.min()!) / counts.max()! > 0.05)
    }

    @Test func aRateWalkAveragesOneWithTheSpreadAsked() {
        var walk = RateWalk(spread: 0.3)
        var random = RandomSource(seed: 9, stream: 1)
        var sum = 0.0, sumSquaredLog = 0.0
        let steps = 200_000
        for _ in 0..<steps {
            walk.step(random: &random)
            sum += walk.factor
            sumSquaredLog += walk.logFactor * walk.logFactor
        }
        #expect(abs(sum / Double(steps) - 1) < 0.02)
        #expect(abs((sumSquaredLog / Double(steps)).squareRoot() - 0.3) < 0.02)
    }

    @Test func theFewestGPUsPassAndOneFewerDoesNot() throws {
        let loaded = try load("traffic")
        var config = SimulationConfig()
        config.durationSeconds = 4
        config.totalRatePerSecond = 6000
        let outcome = try Simulation.findMinGPUs(workload: loaded.workload, curves: loaded.curves, config: config, maxGPUs: 64)
        let gpus = try #require(outcome.minGPUs)
        #expect(try #require(outcome.result).total.withinSLOFraction >= 0.99)
        #expect(gpus > 1)
        let fewer = try #require(outcome.trials.first { $0.gpus == gpus - 1 })
        #expect(fewer.withinSLOFraction < 0.99)
        // 6,000/s of traffic is about a quarter of what 16 GPUs carry (24,000/s): 3 to 6 GPUs.
        #expect((3...6).contains(gpus))
    }
}
