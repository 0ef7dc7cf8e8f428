import Testing
@testable import NexusCore

@Suite struct DeadlineQueueTests {
    func queue(_ deadlines: [Int64]) -> DeadlineQueue<Int> {
        var queue = DeadlineQueue<Int>()
        for (index, deadline) in deadlines.enumerated() { queue.insert(index, deadlineNs: deadline) }
        return queue
    }

    func popAll(_ queue: inout DeadlineQueue<Int>) -> [Int] {
        var out: [Int] = []
        queue.popFront(queue.count, into: &out)
        return out
    }

    @Test func keepsDeadlineOrderWhateverTheInsertionOrder() {
        var q = queue([30, 10, 20, 10, 40, 5])
        #expect(q.count == 6)
        #expect((0..<6).map { q.deadlineNs(at: $0) } == [5, 10, 10, 20, 30, 40])
        // Equal deadlines keep arrival order.
        #expect(popAll(&q) == [5, 1, 3, 2, 0, 4])
        #expect(q.isEmpty)
    }

    @Test func popsFromTheFrontAcrossCompaction() {
        var q = DeadlineQueue<Int>()
        for i in 0..<5000 { q.insert(i, deadlineNs: Int64(i)) }
        var popped: [Int] = []
        for _ in 0..<40 { q.popFront(100, into: &popped) }
        #expect(popped == Array(0..<4000))
        q.insert(-1, deadlineNs: 3999)
        #expect(q.payload(at: 0) == -1)
        #expect(q.count == 1001)
    }
}

/// Early drop (sliding window) and lazy drop over hand-made queues; batch latency `5 + b` ns.
@Suite struct BatchDecisionTests {
    func latency(_ batch: Int) -> Int64 { 5 + Int64(batch) }

    func queue(_ deadlines: [Int64]) -> DeadlineQueue<Int> {
        var queue = DeadlineQueue<Int>()
        for (index, deadline) in deadlines.enumerated() { queue.insert(index, deadlineNs: deadline) }
        return queue
    }

    @Test func earlyDropTakesAFullBatchWhenEveryoneCanMakeIt() {
        // b = 4, finish = 0 + 9: the earliest deadline 10 is fine.
        let decision = queue([10, 12, 20, 30, 40]).decideBatch(policy: .early, maxBatch: 4, nowNs: 0, latencyNs: latency)
        #expect(decision == BatchDecision(dropCount: 0, batchSize: 4))
    }

    @Test func earlyDropDropsWhatWouldFinishLateAndShrinksTheBatch() {
        // now 6, b = 4, finish 15: 10 is late; b = 4 of 4 left still finishes at 15, so 12 is late too;
        // 3 remain, so the batch shrinks to 3 (finish 14) and 20 makes it.
        let decision = queue([10, 12, 20, 30, 40]).decideBatch(policy: .early, maxBatch: 4, nowNs: 6, latencyNs: latency)
        #expect(decision == BatchDecision(dropCount: 2, batchSize: 3))
    }

    @Test func aShrinkingBatchFinishesEarlierSoLaterRequestsMakeIt() {
        // b = 3 would finish at 8, too late for the first 7; without it b = 2 finishes at 7: the second 7 makes it.
        let decision = queue([7, 7, 20]).decideBatch(policy: .early, maxBatch: 3, nowNs: 0, latencyNs: latency)
        #expect(decision == BatchDecision(dropCount: 1, batchSize: 2))
    }

    @Test func aLongQueueKeepsTheFullBatchAfterDrops() {
        // Six queued, B = 4: after dropping 10 and 12 four remain, so the batch stays 4 (finish 15).
        let decision = queue([10, 12, 20, 30, 40, 50]).decideBatch(policy: .early, maxBatch: 4, nowNs: 6, latencyNs: latency)
        #expect(decision == BatchDecision(dropCount: 2, batchSize: 4))
    }

    @Test func earlyDropEmptiesAQueueNobodyCanMakeIt() {
        let decision = queue([10, 11, 12]).decideBatch(policy: .early, maxBatch: 8, nowNs: 9, latencyNs: latency)
        #expect(decision == BatchDecision(dropCount: 3, batchSize: 0))
    }

    @Test func earlyDropWindowIsTheBatchAboutToRun() {
        // Batch of 2 finishes at 7 + 7 = 14: deadline 13 cannot make it, 14 can.
        let decision = queue([13, 14, 50]).decideBatch(policy: .early, maxBatch: 2, nowNs: 7, latencyNs: latency)
        #expect(decision == BatchDecision(dropCount: 1, batchSize: 2))
    }

    @Test func lazyDropOnlyDropsWhatHasAlreadyExpired() {
        let decision = queue([10, 12, 20, 30, 40]).decideBatch(policy: .lazy, maxBatch: 4, nowNs: 11, latencyNs: latency)
        #expect(decision == BatchDecision(dropCount: 1, batchSize: 4))
        let none = queue([10]).decideBatch(policy: .lazy, maxBatch: 4, nowNs: 10, latencyNs: latency)
        #expect(none == BatchDecision(dropCount: 0, batchSize: 1))
    }

    @Test func anEmptyQueueOrZeroBatchDecidesNothing() {
        #expect(DeadlineQueue<Int>().decideBatch(policy: .early, maxBatch: 4, nowNs: 0, latencyNs: latency) == BatchDecision(dropCount: 0, batchSize: 0))
        #expect(queue([100]).decideBatch(policy: .early, maxBatch: 0, nowNs: 0, latencyNs: latency) == BatchDecision(dropCount: 0, batchSize: 0))
    }
}

@Suite struct AIMDBatchSizeTests {
    @Test func growsByOneWhileBatchesFitAndCutsByTenPercentWhenNot() {
        var aimd = AIMDBatchSize(maxBatch: 64, latencySLONs: 100)
        for _ in 0..<29 { aimd.record(batchLatencyNs: 50) }
        #expect(aimd.batchSize == 30)
        aimd.record(batchLatencyNs: 150)
        #expect(aimd.batchSize == 27)
        aimd.record(batchLatencyNs: 60)
        #expect(aimd.batchSize == 28)
        for _ in 0..<100 { aimd.record(batchLatencyNs: 10) }
        #expect(aimd.batchSize == 64)
    }

    @Test func neverGoesBelowOne() {
        var aimd = AIMDBatchSize(maxBatch: 8, latencySLONs: 100)
        for _ in 0..<5 { aimd.record(batchLatencyNs: 1000) }
        #expect(aimd.batchSize == 1)
    }
}

@Suite struct DynamicBatchPolicyTests {
    let policy = DynamicBatchPolicy(maxBatch: 4, maxQueueDelayNs: 100)

    @Test func runsAtOnceWhenTheBatchIsFull() {
        #expect(policy.decide(queued: 4, oldestArrivalNs: 0, nowNs: 1) == .run)
    }

    @Test func waitsForTheOldestRequestsQueueDelay() {
        #expect(policy.decide(queued: 2, oldestArrivalNs: 50, nowNs: 60) == .waitUntil(150))
        #expect(policy.decide(queued: 2, oldestArrivalNs: 50, nowNs: 150) == .run)
        #expect(policy.decide(queued: 0, oldestArrivalNs: 0, nowNs: 0) == .idle)
    }
}
