/// What one backend runs (DESIGN.md §4: the scheduler's model-table update): its sessions with their
/// planned batch sizes, and the duty cycle in which it visits each of them once.
public struct ModelTable: Sendable, Equatable {
    public var dutyCycleMs: Double
    public var sessions: [Entry]

    public init(dutyCycleMs: Double, sessions: [Entry]) {
        self.dutyCycleMs = dutyCycleMs
        self.sessions = sessions
    }

    public struct Entry: Sendable, Equatable {
        public var sessionID: String
        /// One model, or the members of a prefix group (models with the same `prefix:`), which run the
        /// prefix once over their combined batch.
        public var models: [String]
        /// The planned batch: the most requests one visit takes.
        public var maxBatch: Int
        /// Planned latency of a batch of `b` at index `b - 1` (the profile's, as the planner assumed), for
        /// early drop; nil to use latencies measured on this device as it runs.
        public var latencyMs: [Double]?

        public init(sessionID: String, models: [String], maxBatch: Int, latencyMs: [Double]? = nil) {
            self.sessionID = sessionID
            self.models = models
            self.maxBatch = maxBatch
            self.latencyMs = latencyMs
        }

        /// The largest batch this entry has a planned latency for (the planned batch when none are listed).
        public var largestKnownBatch: Int { max(maxBatch, latencyMs?.count ?? 0) }

        /// The planned latency of a batch of `batch` in ns (rounded), which early drop assumes; a batch past
        /// the planned ones scales the last planned latency linearly. nil without planned latencies. The
        /// backend executor and the simulated GPUs both read latencies through this, so they decide alike.
        public func plannedLatencyNs(batch: Int) -> Int64? {
            guard let latencyMs, !latencyMs.isEmpty, batch > 0 else { return nil }
            let planned = batch <= latencyMs.count
                ? latencyMs[batch - 1] : latencyMs[latencyMs.count - 1] * Double(batch) / Double(latencyMs.count)
            return Int64((planned * 1e6).rounded())
        }
    }
}

extension ModelTable {
    /// The duty cycle's slack: what is left of it after every session's planned batch, in ns (>= 0).
    public var slackNs: Int64 {
        let planned = sessions.reduce(Int64(0)) { $0 + ($1.plannedLatencyNs(batch: $1.maxBatch) ?? 0) }
        return max(0, Int64((dutyCycleMs * 1e6).rounded()) - planned)
    }

    /// `nexus-next` (DESIGN.md §5.4): per entry, the largest batch a visit may grow to when its queue holds
    /// more than the planned batch: the extra latency `l(b) - l(planned)` must fit the duty cycle's slack, so a
    /// burst of one session borrows the time the plan left idle without delaying the others past their
    /// planned cycle. Capped by `limit(entry)` (what the runtime supports) and the latencies the entry lists.
    public func growthCaps(limit: (Entry) -> Int = { $0.largestKnownBatch }) -> [Int] {
        let slack = slackNs
        return sessions.map { entry in
            guard let base = entry.plannedLatencyNs(batch: entry.maxBatch) else { return entry.maxBatch }
            let top = min(limit(entry), entry.largestKnownBatch)
            var cap = entry.maxBatch
            while cap < top, let next = entry.plannedLatencyNs(batch: cap + 1), next - base <= slack { cap += 1 }
            return cap
        }
    }
}
