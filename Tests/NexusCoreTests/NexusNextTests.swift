import NexusTestSupport
import Testing
@testable import NexusCore

/// `nexus-next` (DESIGN.md §5.4): filling a cluster larger than the demand, and visits that grow a batch into
/// the duty cycle's slack. The model's batch of `b` takes `2 + b` ms.
@Suite struct NexusNextTests {
    let curve = TestCurves.affine(fixedMs: 2, perItemMs: 1, memoryMB: 600)

    @Test func aClusterWithSpareBackendsIsFilledAndAFilledPlanIsKeptWhileItCovers() {
        var config = PlannerConfig(rateHeadroom: 0)
        config.fillsCluster = true
        let planner = Planner(config: config)
        let demands = [TestCurves.demand("a", curve: curve, budgetMs: 20, ratePerSecond: 400)]
        let plain = Planner(config: PlannerConfig(rateHeadroom: 0)).plan(demands, maxBackends: 4)
        let filled = planner.plan(demands, maxBackends: 4)
        #expect(plain.gpus == 1)
        #expect(filled.invariantViolations() == [])
        #expect(filled.gpus <= 4 && filled.gpus > plain.gpus)
        #expect(filled.admittedFraction > 1)
        // The demand is what was measured; the planned rate is the filled multiple of it.
        let session = filled.session(id: "a")!
        #expect(session.demandRatePerSecond == 400)
        #expect(abs(session.ratePerSecond - 400 * filled.admittedFraction) < 1e-9)
        // A small rise it still covers keeps it as it is; a rise past it plans afresh.
        let risen = planner.plan([TestCurves.demand("a", curve: curve, budgetMs: 20, ratePerSecond: 420)], previous: filled, maxBackends: 4)
        #expect(risen.sessions.map(\.ratePerSecond) == filled.sessions.map(\.ratePerSecond))
        let beyond = planner.plan([TestCurves.demand("a", curve: curve, budgetMs: 20, ratePerSecond: session.ratePerSecond + 1)],
                                  previous: filled, maxBackends: 4)
        #expect(beyond.session(id: "a")!.demandRatePerSecond == session.ratePerSecond + 1)
        // Without a cap there is nothing to fill.
        #expect(planner.plan(demands).gpus == 1)
    }

    @Test func growthCapsSpendTheDutyCycleSlackAndNoMore() {
        // Duty cycle 20 ms; planned batches 4 (6 ms) and 2 (4 ms): 10 ms of slack.
        let latency = (1...32).map { 2 + Double($0) }
        let table = ModelTable(dutyCycleMs: 20, sessions: [
            .init(sessionID: "a", models: ["m"], maxBatch: 4, latencyMs: latency),
            .init(sessionID: "b", models: ["m"], maxBatch: 2, latencyMs: latency),
        ])
        #expect(table.slackNs == 10_000_000)
        #expect(table.growthCaps() == [14, 12])
        #expect(table.growthCaps { $0.sessionID == "a" ? 6 : 100 } == [6, 12])
        // No slack: the planned batches.
        #expect(ModelTable(dutyCycleMs: 10, sessions: table.sessions).growthCaps() == [4, 2])
        // Without planned latencies nothing can be predicted: the planned batch.
        #expect(ModelTable(dutyCycleMs: 20, sessions: [.init(sessionID: "c", models: ["m"], maxBatch: 3)]).growthCaps() == [3])
    }

    @Test func aGrownBatchTakesOnlyWhatStillMeetsTheEarliestDeadline() {
        func latency(_ batch: Int) -> Int64 { 10 + Int64(batch) }
        var queue = DeadlineQueue<Int>()
        for index in 0..<10 { queue.insert(index, deadlineNs: 20) }
        // Planned batch 2; growing to at most 8, the earliest deadline 20 allows l(b) = 10 + b <= 20: all 8.
        #expect(queue.decideBatch(policy: .early, maxBatch: 2, growUpTo: 8, nowNs: 0, latencyNs: latency)
                == BatchDecision(dropCount: 0, batchSize: 8))
        // At 5 only 5 fit.
        #expect(queue.decideBatch(policy: .early, maxBatch: 2, growUpTo: 8, nowNs: 5, latencyNs: latency)
                == BatchDecision(dropCount: 0, batchSize: 5))
        // Growing never drops what the planned batch would keep: at 9, the planned 2 are late (21 > 20) and
        // so is a batch of 1: everything due at 20 is dropped, as without growth.
        #expect(queue.decideBatch(policy: .early, maxBatch: 2, growUpTo: 8, nowNs: 9, latencyNs: latency)
                == queue.decideBatch(policy: .early, maxBatch: 2, nowNs: 9, latencyNs: latency))
        // A short queue is not grown.
        var short = DeadlineQueue<Int>()
        short.insert(0, deadlineNs: 100)
        #expect(short.decideBatch(policy: .early, maxBatch: 2, growUpTo: 8, nowNs: 0, latencyNs: latency)
                == BatchDecision(dropCount: 0, batchSize: 1))
    }
}
