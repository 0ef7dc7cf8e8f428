/// What to do with the front of a deadline-ordered queue when a session's turn comes: drop the first
/// `dropCount` requests (each answered "dropped" at once) and run the next `batchSize` as one batch.
public struct BatchDecision: Equatable, Sendable {
    public var dropCount: Int
    public var batchSize: Int

    public init(dropCount: Int, batchSize: Int) {
        self.dropCount = dropCount
        self.batchSize = batchSize
    }
}

/// When a request that cannot make its deadline is given up (DESIGN.md §3.5).
public enum DropPolicy: String, Sendable, CaseIterable {
    /// Sliding window: drop what would finish late in the batch about to run; never run a late request.
    case early
    /// Drop only what has already missed its deadline; the rest runs, possibly finishing late.
    case lazy
}

extension DeadlineQueue {
    /// Forms one batch of at most `maxBatch` under `policy`. `latencyNs(b)` is the planned latency of a
    /// batch of `b` (the profile's, so the decision is the one the planner assumed).
    ///
    /// Early drop: `b = min(maxBatch, queued)`, `finish = now + l(b)`; while the earliest request's deadline
    /// is before `finish`, drop it, shrink `b` to what is left (at most `maxBatch`) and recompute `finish`.
    /// Because `l` is non-decreasing, a shrinking batch only moves `finish` earlier.
    @inlinable
    public func decideBatch(policy: DropPolicy, maxBatch: Int, nowNs: Int64, latencyNs: (Int) -> Int64) -> BatchDecision {
        let queued = count
        guard queued > 0, maxBatch > 0 else { return BatchDecision(dropCount: 0, batchSize: 0) }
        var dropped = 0
        switch policy {
        case .early:
            var batch = Swift.min(maxBatch, queued)
            while batch > 0, deadlineNs(at: dropped) < nowNs + latencyNs(batch) {
                dropped += 1
                batch = Swift.min(maxBatch, queued - dropped)
            }
            return BatchDecision(dropCount: dropped, batchSize: batch)
        case .lazy:
            while dropped < queued, deadlineNs(at: dropped) < nowNs { dropped += 1 }
            return BatchDecision(dropCount: dropped, batchSize: Swift.min(maxBatch, queued - dropped))
        }
    }

    /// `decideBatch`, then grown past `maxBatch` up to `growUpTo` while the queue holds more and the batch
    /// still finishes by the earliest deadline left in it: requests ride along only where no one is late
    /// for it, and nothing is dropped that `decideBatch` would have kept.
    @inlinable
    public func decideBatch(policy: DropPolicy, maxBatch: Int, growUpTo: Int, nowNs: Int64,
                            latencyNs: (Int) -> Int64) -> BatchDecision {
        var decision = decideBatch(policy: policy, maxBatch: maxBatch, nowNs: nowNs, latencyNs: latencyNs)
        guard decision.batchSize == maxBatch, growUpTo > maxBatch else { return decision }
        let available = Swift.min(growUpTo, count - decision.dropCount)
        let earliest = deadlineNs(at: decision.dropCount)
        while decision.batchSize < available, nowNs + latencyNs(decision.batchSize + 1) <= earliest { decision.batchSize += 1 }
        return decision
    }
}
