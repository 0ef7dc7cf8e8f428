import Testing
@testable import NexusCore

/// Symphony's schedulable window, Shepherd's on-time batch and preemption rule, and placement groups, over
/// hand-made queues. Batch latency `l(b) = 10 + 2b` ns; dispatch costs 3 ns + 1 ns per request.
@Suite struct DispatchTests {
    let costs = DispatchCosts(controlNs: 3, perRequestNs: 1)
    func latency(_ batch: Int) -> Int64 { 10 + 2 * Int64(batch) }
    func queue(_ deadlines: [Int64]) -> DeadlineQueue<Int> {
        var queue = DeadlineQueue<Int>()
        for (index, deadline) in deadlines.enumerated() { queue.insert(index, deadlineNs: deadline) }
        return queue
    }

    @Test func aBatchWaitsUntilOneMoreRequestWouldNoLongerFit() throws {
        // Two queued, earliest deadline 100, jitter 5: finish(b) = 3 + b + 10 + 2b + 5 = 18 + 3b.
        let window = try #require(queue([100, 120]).schedulableWindow(maxBatch: 8, nowNs: 0, costs: costs, jitterNs: 5, latencyNs: latency))
        #expect(window.dropCount == 0)
        #expect(window.batchSize == 2)
        #expect(window.readyAtNs == 100 - (18 + 9))   // a third request would no longer fit after 73
        #expect(window.lastStartNs == 100 - (18 + 6))  // the pair itself must start by 76
    }

    @Test func aFullBatchIsReadyAtOnce() throws {
        let window = try #require(queue([100, 100, 100]).schedulableWindow(maxBatch: 3, nowNs: 7, costs: costs, jitterNs: 0, latencyNs: latency))
        #expect(window.batchSize == 3)
        #expect(window.readyAtNs == 7)
    }

    @Test func frontRequestsThatCannotMakeItAreDroppedAndTheWindowIsTheRest() throws {
        // At 50, a lone request finishes at 50 + 16 = 66: the one due at 60 is lost, the others batch.
        let window = try #require(queue([60, 90, 95]).schedulableWindow(maxBatch: 8, nowNs: 50, costs: costs, jitterNs: 0, latencyNs: latency))
        #expect(window.dropCount == 1)
        #expect(window.batchSize == 2)
        #expect(window.readyAtNs == 90 - 22)  // a third request still fits until 68
        #expect(window.lastStartNs == 90 - 19)
    }

    @Test func anEmptyQueueHasNoWindow() {
        #expect(queue([]).schedulableWindow(maxBatch: 4, nowNs: 0, costs: costs, jitterNs: 0, latencyNs: latency) == nil)
    }

    @Test func theOnTimeBatchIsTheLargestWhoseEarliestDeadlineHolds() {
        // Start at 0: finish(b) = 13 + 3b. Deadline 30 holds for b <= 5.
        let decision = queue([30, 31, 32, 33, 34, 35, 36, 37]).onTimeBatch(maxBatch: 8, nowNs: 0, costs: costs, latencyNs: latency)
        #expect(decision == BatchDecision(dropCount: 0, batchSize: 5))
        let capped = queue([300, 300, 300]).onTimeBatch(maxBatch: 2, nowNs: 0, costs: costs, latencyNs: latency)
        #expect(capped == BatchDecision(dropCount: 0, batchSize: 2))
        // At 10 a lone request finishes at 26: the ones due at 20 and 25 are dropped.
        let late = queue([20, 25, 40, 41]).onTimeBatch(maxBatch: 8, nowNs: 10, costs: costs, latencyNs: latency)
        #expect(late == BatchDecision(dropCount: 2, batchSize: 2))
    }

    @Test func preemptionNeedsABatchLambdaTimesLarger() {
        let rule = PreemptionRule(lambda: 3.03)
        #expect(!rule.preempts(newBatch: 3, runningBatch: 1))
        #expect(rule.preempts(newBatch: 4, runningBatch: 1))
        #expect(!rule.preempts(newBatch: 30, runningBatch: 10))
        #expect(rule.preempts(newBatch: 31, runningBatch: 10))
        #expect(!rule.preempts(newBatch: 0, runningBatch: 0))
    }

    @Test func placementGroupsFillMemoryHeaviestFirstAndCoverEverySession() {
        // Three GPUs of 10 MB; sessions of 6, 4, 4 and 3 MB, loads 1, 3, 2, 0.5.
        let holds = PlacementGroups.widen(base: [[], [], []], sessionMemoryMB: [6, 4, 4, 3], sessionLoad: [1, 3, 2, 0.5], gpuMemoryMB: 10)
        for gpu in holds.indices {
            #expect(holds[gpu].reduce(0) { $0 + [6.0, 4, 4, 3][$1] } <= 10, "GPU \(gpu) over memory: \(holds[gpu])")
        }
        for session in 0..<4 { #expect(holds.contains { $0.contains(session) }, "session \(session) nowhere: \(holds)") }
        // The heaviest session starts the first GPU's group.
        #expect(holds[0].first == 1)
        // With room for everything, every GPU holds every session, and a base placement is kept.
        let roomy = PlacementGroups.widen(base: [[3], []], sessionMemoryMB: [1, 1, 1, 1], sessionLoad: [1, 1, 1, 1], gpuMemoryMB: 100)
        #expect(roomy.map { Set($0) } == [Set(0..<4), Set(0..<4)])
        #expect(roomy[0].first == 3)
    }

    @Test func theCapacityBoundUsesTheBestBatchWithinTheSLO() throws {
        // One model, l(b) = 1 + b ms up to 8; SLO 6 ms: batches up to 5 fit, the best is 5 (6 ms for 5).
        let profile = try ModelProfile(model: "m", points: (1...8).map { ProfilePoint(batch: $0, planningLatencyMs: 1 + Double($0)) })
        let curves = ModelCurves(table: ProfileTable(source: "test", column: .graphP99, profiles: [profile]))
        let workload = Workload(name: "w", profiles: "p", totalRatePerSecond: 1,
                                applications: [ApplicationSpec(name: "a", latencySLOMs: 6, rateShare: 1,
                                                               stages: [StageSpec(name: "s", model: "m")])])
        let bound = try CapacityBound.ratePerSecond(workload: workload, curves: curves, gpus: 2, phaseIndex: nil)
        #expect(abs(bound - 2 * 5 / 0.006) < 1e-6)
    }
}
