/// Counters of one executor since it started; `BackendExecutor.snapshot()` copies them.
public struct ExecutorStatistics: Sendable, Equatable {
    public var startedNs: Int64 = 0
    public var batches = 0
    public var completed = 0
    public var dropped = 0
    public var rejected = 0
    public var unavailable = 0
    public var failed = 0
    /// Time the device spent running batches.
    public var busyNs: Int64 = 0

    /// The share of time since `startedNs` the device was running batches.
    public func utilization(nowNs: Int64) -> Double {
        nowNs > startedNs ? Double(busyNs) / Double(nowNs - startedNs) : 0
    }

    public var meanBatch: Double { batches == 0 ? 0 : Double(completed + failed) / Double(batches) }

    mutating func record(batch: Int, durationNs: Int64, outcomes: [InferenceOutcome]) {
        batches += 1
        busyNs += durationNs
        for outcome in outcomes {
            if case .success = outcome { completed += 1 } else { failed += 1 }
        }
    }

    mutating func record(_ error: InferenceError) {
        switch error {
        case .deadlineExceeded: dropped += 1
        case .unavailable: unavailable += 1
        case .internalError: failed += 1
        case .invalidArgument, .notFound, .resourceExhausted: rejected += 1
        }
    }
}

extension BackendExecutor {
    public func snapshot() -> ExecutorStatistics {
        condition.lock()
        defer { condition.unlock() }
        return statistics
    }
}
