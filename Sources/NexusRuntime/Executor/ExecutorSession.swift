import NexusCore

/// A session as the executor holds it: its table entry, its deadline-ordered queue of decoded requests and
/// the models it runs.
final class ExecutorSession {
    struct Pending {
        var input: [Float]
        /// Index into `members`.
        var member: Int
        /// When it joined the queue (decoded), on the executor's clock: its queue time ends when its batch starts.
        var queuedNs: Int64
        var completion: @Sendable (InferenceOutcome, BatchTiming?) -> Void
    }

    var entry: ModelTable.Entry
    /// The largest batch a visit may grow to (`ModelTable.growthCaps`); `entry.maxBatch` unless `nexus-next`.
    var growCap: Int
    /// The specs of `entry.models`, in order.
    let members: [ModelSpec]
    /// The shared base of a prefix group, nil for a plain model.
    let prefix: ModelSpec?
    var queue = PriorityDeadlineQueue<Pending>()
    /// Accepted requests still being decoded: a removed session is kept until these arrive and run.
    var decoding = 0
    /// Removed from the table: serves what it holds, accepts nothing new, then goes.
    var draining = false
    var observed: ObservedLatency
    let metrics: SessionMetrics

    init(entry: ModelTable.Entry, members: [ModelSpec], prefix: ModelSpec?) {
        self.entry = entry
        growCap = entry.maxBatch
        self.members = members
        self.prefix = prefix
        observed = ObservedLatency(maxBatch: entry.maxBatch)
        metrics = SessionMetrics(sessionID: entry.sessionID)
    }

    var isIdle: Bool { queue.isEmpty && decoding == 0 }

    /// Model names this session needs loaded: the prefix (if any) and each member's file.
    var modelNames: [String] { (prefix.map { [$0.name] } ?? []) + members.map(\.name) }

    /// The batch this session's queue forms at `nowNs` (grown into the slack up to `growCap` when `grow`): what
    /// the turn policy is shown, and what is then taken out.
    func decide(drop: DropPolicy, nowNs: Int64, grow: Bool) -> PriorityDeadlineQueue<Pending>.Decision {
        queue.decideBatch(policy: drop, maxBatch: entry.maxBatch, growUpTo: grow ? growCap : nil, nowNs: nowNs,
                          latencyNs: latencyNs(batch:))
    }

    /// The latency early drop assumes for a batch of `batch`.
    func latencyNs(batch: Int) -> Int64 {
        entry.plannedLatencyNs(batch: batch) ?? observed.estimateNs(batch: batch)
    }
}
