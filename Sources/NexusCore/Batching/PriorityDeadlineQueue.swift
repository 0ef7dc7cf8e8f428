/// A session's queue with Triton's `priority` levels (issue 10): 1 is the highest, larger numbers lower, and 0
/// (the default) comes after every explicit level. Each level is a `DeadlineQueue`; a batch takes requests level
/// by level, in deadline order within a level. With one level in use it decides exactly as `DeadlineQueue`
/// does, so a cluster whose clients never set a priority batches as before.
public struct PriorityDeadlineQueue<Payload>: Sendable where Payload: Sendable {
    /// Visiting ranks (highest priority first) and their queues; empty levels are removed.
    @usableFromInline var ranks: [UInt32] = []
    @usableFromInline var levels: [DeadlineQueue<Payload>] = []

    public init() {}

    public var count: Int { levels.reduce(0) { $0 + $1.count } }
    public var isEmpty: Bool { levels.allSatisfy(\.isEmpty) }
    /// Levels holding requests now.
    public var levelCount: Int { levels.count }

    /// The visiting rank of a client's priority.
    @inlinable static func rank(_ priority: UInt32) -> UInt32 { priority == 0 ? .max : priority }

    public mutating func insert(_ payload: Payload, deadlineNs: Int64, priority: UInt32 = 0) {
        let rank = Self.rank(priority)
        var index = 0
        while index < ranks.count, ranks[index] < rank { index += 1 }
        if index == ranks.count || ranks[index] != rank {
            ranks.insert(rank, at: index)
            levels.insert(DeadlineQueue(), at: index)
        }
        levels[index].insert(payload, deadlineNs: deadlineNs)
    }

    /// Per level (in visiting order): requests to drop from its front, then requests to batch after them.
    public struct Decision: Equatable, Sendable {
        public var drops: [Int]
        public var takes: [Int]
        public var dropCount: Int { drops.reduce(0, +) }
        public var batchSize: Int { takes.reduce(0, +) }
        public var batch: BatchDecision { BatchDecision(dropCount: dropCount, batchSize: batchSize) }
    }

    /// The batch at `nowNs` under `policy`, at most `maxBatch` (grown up to `growUpTo` as in
    /// `DeadlineQueue.decideBatch(policy:maxBatch:growUpTo:...)`). Early drop, generalised: the batch is the
    /// first `b` requests in visiting order; while the earliest deadline among them (the front of one level)
    /// is before `now + l(b)`, that request is dropped and `b` recomputed.
    public func decideBatch(policy: DropPolicy, maxBatch: Int, growUpTo: Int? = nil, nowNs: Int64,
                            latencyNs: (Int) -> Int64) -> Decision {
        if levels.count <= 1 {
            guard let only = levels.first else { return Decision(drops: [], takes: []) }
            let decision = growUpTo.map { only.decideBatch(policy: policy, maxBatch: maxBatch, growUpTo: $0, nowNs: nowNs, latencyNs: latencyNs) }
                ?? only.decideBatch(policy: policy, maxBatch: maxBatch, nowNs: nowNs, latencyNs: latencyNs)
            return Decision(drops: [decision.dropCount], takes: [decision.batchSize])
        }
        var drops = [Int](repeating: 0, count: levels.count)
        let total = count
        func takes(_ batch: Int) -> [Int] {
            var left = batch
            return levels.indices.map { level in
                let taken = Swift.min(left, levels[level].count - drops[level])
                left -= taken
                return taken
            }
        }
        /// The level whose front (after drops) has the earliest deadline among levels that contribute.
        func earliest(_ taken: [Int]) -> (level: Int, deadlineNs: Int64) {
            var best = (level: -1, deadlineNs: Int64.max)
            for level in levels.indices where taken[level] > 0 {
                let deadline = levels[level].deadlineNs(at: drops[level])
                if deadline < best.deadlineNs { best = (level, deadline) }
            }
            return best
        }
        switch policy {
        case .lazy:
            for level in levels.indices {
                while drops[level] < levels[level].count, levels[level].deadlineNs(at: drops[level]) < nowNs { drops[level] += 1 }
            }
            return Decision(drops: drops, takes: takes(Swift.min(maxBatch, total - drops.reduce(0, +))))
        case .early:
            var batch = Swift.min(maxBatch, total)
            while batch > 0 {
                let front = earliest(takes(batch))
                guard front.deadlineNs < nowNs + latencyNs(batch) else { break }
                drops[front.level] += 1
                batch = Swift.min(maxBatch, total - drops.reduce(0, +))
            }
            if let growUpTo, batch == maxBatch, growUpTo > maxBatch {
                let available = Swift.min(growUpTo, total - drops.reduce(0, +))
                while batch < available, earliest(takes(batch + 1)).deadlineNs >= nowNs + latencyNs(batch + 1) { batch += 1 }
            }
            return Decision(drops: drops, takes: takes(batch))
        }
    }

    /// Carries out `decision`: each level's dropped requests to `dropped`, its batched ones to `batch`, in
    /// visiting order; levels left empty are removed.
    public mutating func pop(_ decision: Decision, dropped: inout [Payload], batch: inout [Payload]) {
        precondition(decision.drops.count == levels.count && decision.takes.count == levels.count,
                     "a decision for \(decision.drops.count) levels applied to \(levels.count)")
        for level in levels.indices {
            levels[level].popFront(decision.drops[level], into: &dropped)
            levels[level].popFront(decision.takes[level], into: &batch)
        }
        removeEmptyLevels()
    }

    /// Removes everything, level by level.
    public mutating func drain(_ body: (Payload, Int64) -> Void) {
        for level in levels.indices { levels[level].drain(body) }
        removeEmptyLevels()
    }

    mutating func removeEmptyLevels() {
        guard levels.contains(where: \.isEmpty) else { return }
        let kept = levels.indices.filter { !levels[$0].isEmpty }
        ranks = kept.map { ranks[$0] }
        levels = kept.map { levels[$0] }
    }
}
