/// One turn of a backend's device: drop the first `dropCount` requests of session `session`'s queue (each
/// answered "dropped" at once), then run the next `batchSize` as one batch. A turn whose `batchSize` is 0
/// only drops; the device then asks for the next turn.
public struct Turn: Equatable, Sendable {
    /// Index into the backend's sessions, in their visiting order.
    public var session: Int
    public var dropCount: Int
    public var batchSize: Int

    @inlinable
    public init(session: Int, dropCount: Int, batchSize: Int) {
        self.session = session
        self.dropCount = dropCount
        self.batchSize = batchSize
    }
}

/// What a turn policy sees of one backend: its sessions in visiting order, each a deadline-ordered queue
/// with the batch cap and the latencies its plan assumed. The backend executor's device thread and the
/// simulator's GPUs each provide one view over their own queues, and ask the same policy.
public protocol TurnQueues {
    var sessionCount: Int { get }
    func isEmpty(session: Int) -> Bool
    /// The batch `drop` forms at the front of `session`'s queue at `nowNs` (`DeadlineQueue.decideBatch`).
    func decideBatch(session: Int, drop: DropPolicy, nowNs: Int64) -> BatchDecision
    /// The same batch, grown into the duty cycle's slack (`ModelTable.growthCaps`,
    /// `DeadlineQueue.decideBatch(policy:maxBatch:growUpTo:...)`). Views without caps form the planned batch.
    func decideGrownBatch(session: Int, drop: DropPolicy, nowNs: Int64) -> BatchDecision
}

extension TurnQueues {
    public func decideGrownBatch(session: Int, drop: DropPolicy, nowNs: Int64) -> BatchDecision {
        decideBatch(session: session, drop: drop, nowNs: nowNs)
    }
}

/// Decides which session of a backend runs next and with what batch (DESIGN.md §3.5). A value with the
/// policy's memory (a cursor), owned by the device it drives; pure: the same queues and time give the same
/// turn. Nexus and `tf-like` take turns round-robin; other executors are other implementations.
public protocol TurnPolicy: Sendable {
    /// The next turn, or nil when every queue is empty.
    mutating func nextTurn(_ queues: some TurnQueues, nowNs: Int64) -> Turn?
    /// The backend's sessions changed (a new model table): `count` sessions now.
    mutating func sessionsChanged(count: Int)
}

/// Nexus's executor: visit the sessions round-robin from a cursor, skip empty queues (work-conserving), form
/// the batch by `drop`. The cursor moves past every session that took a turn, including one that only dropped.
public struct RoundRobinTurns: TurnPolicy, Equatable {
    public let drop: DropPolicy
    /// `nexus-next`: a visit whose queue holds more than the planned batch grows it into the duty cycle's slack.
    public let growsIntoSlack: Bool
    /// The session visited first next time.
    @usableFromInline var position = 0

    public init(drop: DropPolicy = .early, growsIntoSlack: Bool = false) {
        self.drop = drop
        self.growsIntoSlack = growsIntoSlack
    }

    public var cursor: Int { position }

    /// Inlinable, so the simulator's GPUs (millions of turns a second) get it specialised to their queues.
    @inlinable
    public mutating func nextTurn(_ queues: some TurnQueues, nowNs: Int64) -> Turn? {
        let count = queues.sessionCount
        guard count > 0 else { return nil }
        for step in 0..<count {
            let session = (position + step) % count
            if queues.isEmpty(session: session) { continue }
            let decision = growsIntoSlack ? queues.decideGrownBatch(session: session, drop: drop, nowNs: nowNs)
                                          : queues.decideBatch(session: session, drop: drop, nowNs: nowNs)
            position = (session + 1) % count
            return Turn(session: session, dropCount: decision.dropCount, batchSize: decision.batchSize)
        }
        return nil
    }

    public mutating func sessionsChanged(count: Int) {
        precondition(count >= 0, "count must be >= 0, got \(count)")
        position = count == 0 ? 0 : position % count
    }
}
