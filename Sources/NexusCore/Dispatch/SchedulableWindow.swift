/// Symphony's deferred batching (arXiv 2308.07470, `rankmt`): a model's batch is held back until one more
/// request would no longer fit the earliest deadline in it, then it takes a GPU. Deferring is what makes
/// batches large at low rates without missing deadlines; the window's end is the last moment the batch
/// still makes its earliest deadline.
public struct SchedulableWindow: Equatable, Sendable {
    /// Requests at the front of the queue that cannot make their deadline even alone: answer them "dropped".
    public var dropCount: Int
    /// The batch that would run now (after the drops).
    public var batchSize: Int
    /// From here on, waiting gains nothing: one more request would miss the earliest deadline
    /// (`D* - jitter - cost(b+1) - l(b+1)`, or now when the batch is already full).
    public var readyAtNs: Int64
    /// After this the batch misses `D*` (`D* - jitter - cost(b) - l(b)`); a GPU must take it by then.
    public var lastStartNs: Int64

    @inlinable
    public init(dropCount: Int, batchSize: Int, readyAtNs: Int64, lastStartNs: Int64) {
        self.dropCount = dropCount
        self.batchSize = batchSize
        self.readyAtNs = readyAtNs
        self.lastStartNs = lastStartNs
    }
}

extension DeadlineQueue {
    /// The window of the batch at the front of this queue at `nowNs`. `latencyNs(b)` is the planned
    /// latency of a batch of `b` (non-decreasing), `costs` the dispatch costs, `jitterNs` a margin kept
    /// before each deadline. Early drop over the whole queue: a front request that misses its deadline in
    /// the batch about to form is dropped (as `DropPolicy.early`, with costs and jitter added).
    @inlinable
    public func schedulableWindow(maxBatch: Int, nowNs: Int64, costs: DispatchCosts, jitterNs: Int64,
                                  latencyNs: (Int) -> Int64) -> SchedulableWindow? {
        let queued = count
        guard queued > 0, maxBatch > 0 else { return nil }
        @inline(__always) func finish(_ batch: Int) -> Int64 { costs.startDelayNs(batch: batch) + latencyNs(batch) + jitterNs }
        var dropped = 0
        var batch = Swift.min(maxBatch, queued)
        while batch > 0, deadlineNs(at: dropped) < nowNs + finish(batch) {
            dropped += 1
            batch = Swift.min(maxBatch, queued - dropped)
        }
        guard batch > 0 else {
            return SchedulableWindow(dropCount: dropped, batchSize: 0, readyAtNs: nowNs, lastStartNs: nowNs)
        }
        let earliest = deadlineNs(at: dropped)
        let lastStart = earliest - finish(batch)
        let ready = batch >= maxBatch ? nowNs : Swift.max(nowNs, Swift.min(lastStart, earliest - finish(batch + 1)))
        return SchedulableWindow(dropCount: dropped, batchSize: batch, readyAtNs: ready, lastStartNs: lastStart)
    }

    /// Shepherd's BatchGen for one model (NSDI'23, Flex): drop the front requests that cannot make their
    /// deadline alone, then the largest batch whose earliest deadline still holds if it starts now. Eager:
    /// it never waits for more requests.
    @inlinable
    public func onTimeBatch(maxBatch: Int, nowNs: Int64, costs: DispatchCosts, latencyNs: (Int) -> Int64) -> BatchDecision {
        let queued = count
        guard queued > 0, maxBatch > 0 else { return BatchDecision(dropCount: 0, batchSize: 0) }
        @inline(__always) func finish(_ batch: Int) -> Int64 { nowNs + costs.startDelayNs(batch: batch) + latencyNs(batch) }
        var dropped = 0
        while dropped < queued, deadlineNs(at: dropped) < finish(1) { dropped += 1 }
        let available = Swift.min(maxBatch, queued - dropped)
        guard available > 0 else { return BatchDecision(dropCount: dropped, batchSize: 0) }
        let earliest = deadlineNs(at: dropped)
        // finish() is non-decreasing in the batch: binary search for the largest batch that holds.
        var low = 1, high = available
        while low < high {
            let mid = (low + high + 1) / 2
            if finish(mid) <= earliest { low = mid } else { high = mid - 1 }
        }
        return BatchDecision(dropCount: dropped, batchSize: low)
    }
}

/// Shepherd preempts a running batch when the batch that could start instead is `lambda` times larger
/// (lambda = 3.03 in the paper): the preempted requests go back to their queue and their work is lost.
public struct PreemptionRule: Sendable, Equatable {
    public var lambda: Double

    public init(lambda: Double = 3.03) {
        precondition(lambda >= 1, "lambda must be >= 1, got \(lambda)")
        self.lambda = lambda
    }

    @inlinable public func preempts(newBatch: Int, runningBatch: Int) -> Bool {
        newBatch > 0 && Double(newBatch) >= lambda * Double(runningBatch)
    }
}
