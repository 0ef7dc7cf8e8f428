import NexusTestSupport
import Testing
@testable import NexusCore

/// Triton's `priority` in a session's queue: level by level, deadline order within a level; one level decides
/// exactly as `DeadlineQueue`. Batch latency `5 + b` ns.
@Suite struct PriorityQueueTests {
    func latency(_ batch: Int) -> Int64 { 5 + Int64(batch) }

    @Test(arguments: [DropPolicy.early, .lazy])
    func oneLevelDecidesAsADeadlineQueue(drop: DropPolicy) {
        var generator = SeededGenerator(seed: 3)
        for _ in 0..<300 {
            var plain = DeadlineQueue<Int>(), leveled = PriorityDeadlineQueue<Int>()
            let priority = UInt32.random(in: 0...3, using: &generator)
            for index in 0..<Int.random(in: 0...20, using: &generator) {
                let deadline = Int64.random(in: 0...60, using: &generator)
                plain.insert(index, deadlineNs: deadline)
                leveled.insert(index, deadlineNs: deadline, priority: priority)
            }
            let now = Int64.random(in: 0...30, using: &generator)
            let maxBatch = Int.random(in: 1...8, using: &generator)
            let grow = Bool.random(using: &generator) ? Int.random(in: maxBatch...16, using: &generator) : nil
            let expected = grow.map { plain.decideBatch(policy: drop, maxBatch: maxBatch, growUpTo: $0, nowNs: now, latencyNs: latency) }
                ?? plain.decideBatch(policy: drop, maxBatch: maxBatch, nowNs: now, latencyNs: latency)
            let decision = leveled.decideBatch(policy: drop, maxBatch: maxBatch, growUpTo: grow, nowNs: now, latencyNs: latency)
            #expect(decision.batch == expected)
            var dropped: [Int] = [], batch: [Int] = [], plainDropped: [Int] = [], plainBatch: [Int] = []
            leveled.pop(decision, dropped: &dropped, batch: &batch)
            plain.popFront(expected.dropCount, into: &plainDropped)
            plain.popFront(expected.batchSize, into: &plainBatch)
            #expect(dropped == plainDropped && batch == plainBatch)
            #expect(leveled.count == plain.count)
        }
    }

    @Test func aHigherLevelIsBatchedFirstAndTheDefaultComesLast() {
        var queue = PriorityDeadlineQueue<String>()
        queue.insert("default-early", deadlineNs: 100)
        queue.insert("low", deadlineNs: 300, priority: 5)
        queue.insert("high-late", deadlineNs: 400, priority: 1)
        queue.insert("high", deadlineNs: 200, priority: 1)
        #expect(queue.levelCount == 3)
        let decision = queue.decideBatch(policy: .early, maxBatch: 3, nowNs: 0, latencyNs: latency)
        #expect(decision == .init(drops: [0, 0, 0], takes: [2, 1, 0]))
        var dropped: [String] = [], batch: [String] = []
        queue.pop(decision, dropped: &dropped, batch: &batch)
        #expect(batch == ["high", "high-late", "low"])
        #expect(dropped.isEmpty)
        #expect(queue.levelCount == 1 && queue.count == 1)
    }

    @Test func earlyDropGivesUpTheEarliestDeadlineInTheBatchWhateverItsLevel() {
        var queue = PriorityDeadlineQueue<String>()
        queue.insert("high", deadlineNs: 100, priority: 1)
        queue.insert("doomed", deadlineNs: 8, priority: 2)   // l(2) = 7 > 8 - 2: misses in a batch of 2 at time 2
        queue.insert("default", deadlineNs: 100)
        let decision = queue.decideBatch(policy: .early, maxBatch: 2, nowNs: 2, latencyNs: latency)
        // Batch of 2 = high + doomed; doomed's deadline 8 < 2 + 7: dropped; then high + default.
        #expect(decision == .init(drops: [0, 1, 0], takes: [1, 0, 1]))
        let lazy = queue.decideBatch(policy: .lazy, maxBatch: 2, nowNs: 9, latencyNs: latency)
        #expect(lazy == .init(drops: [0, 1, 0], takes: [1, 0, 1]))
        var all: [String] = []
        queue.drain { payload, _ in all.append(payload) }
        #expect(all == ["high", "doomed", "default"])
        #expect(queue.isEmpty && queue.levelCount == 0)
    }

    @Test func aGrownBatchAcrossLevelsStopsAtTheEarliestDeadline() {
        var queue = PriorityDeadlineQueue<Int>()
        for index in 0..<4 { queue.insert(index, deadlineNs: 100, priority: 1) }
        for index in 4..<8 { queue.insert(index, deadlineNs: 12) }   // l(b) = 5 + b: a batch of 7 ends at 12
        let decision = queue.decideBatch(policy: .early, maxBatch: 2, growUpTo: 8, nowNs: 0, latencyNs: latency)
        #expect(decision.batchSize == 7)
        #expect(decision.takes == [4, 3])
    }
}
