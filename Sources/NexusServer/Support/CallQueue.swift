import Synchronization

/// Calls multiplexed over one stream: requests queue here for the stream's one writer task, which sends
/// everything queued since its last write as one batch (many per write at high rates, one at low rates, no
/// timer), and each caller's completion waits under its id for the reply read off the stream.
///
/// Registering a completion and queueing its request happen under one lock, as do closing and taking the
/// completions still waiting, so every call is answered exactly once: by its reply, or by whoever closed
/// the queue (a broken stream), never both and never neither.
public final class CallQueue<Request: Sendable, Reply: Sendable>: Sendable {
    public typealias Completion = @Sendable (Reply) -> Void

    private struct State {
        var queue: [Request] = []
        var pending: [UInt64: Completion] = [:]
        /// When each waiting call should have its reply (only calls sent with a due time).
        var dueNs: [UInt64: Int64] = [:]
        var writer: CheckedContinuation<Void, Never>?
        var closedReason: String?
    }

    private let state = Mutex(State())

    public init() {}

    /// Queues `request` and keeps `completion` for the reply with `id`. Returns why not when the queue is
    /// closed (then `completion` is not kept and the caller answers itself). `dueNs`: when the reply should
    /// be back at the latest (`expireOverdue(nowNs:)`), nil for no limit.
    public func send(_ request: Request, id: UInt64, dueNs: Int64? = nil, completion: @escaping Completion) -> String? {
        let (writer, refusal) = state.withLock { state -> (CheckedContinuation<Void, Never>?, String?) in
            if let reason = state.closedReason { return (nil, reason) }
            state.pending[id] = completion
            if let dueNs { state.dueNs[id] = dueNs }
            state.queue.append(request)
            defer { state.writer = nil }
            return (state.writer, nil)
        }
        writer?.resume()
        return refusal
    }

    /// The writer's next batch: everything queued, once there is something; nil once the queue is closed
    /// or the writer's task is cancelled (the RPC it writes to is over).
    public func nextBatch() async -> [Request]? {
        while true {
            let (batch, closed) = state.withLock { state -> ([Request], Bool) in
                defer { state.queue.removeAll(keepingCapacity: true) }
                return (state.queue, state.closedReason != nil)
            }
            if closed || Task.isCancelled { return nil }
            if !batch.isEmpty { return batch }
            await state.park(at: \.writer) { !$0.queue.isEmpty || $0.closedReason != nil }
        }
    }

    /// Answers the call `id` with `reply`; a reply for no waiting call (already answered) is ignored.
    public func complete(id: UInt64, with reply: Reply) {
        state.withLock { state in
            state.dueNs[id] = nil
            return state.pending.removeValue(forKey: id)
        }?(reply)
    }

    /// Takes the calls still waiting past their due time, for the caller to answer; their replies, if they
    /// ever come, are ignored. The queue stays open for the others.
    public func expireOverdue(nowNs: Int64) -> [(id: UInt64, completion: Completion)] {
        state.withLock { state in
            let late = state.dueNs.filter { $0.value < nowNs }.keys.sorted()
            return late.compactMap { id in
                state.dueNs[id] = nil
                return state.pending.removeValue(forKey: id).map { (id, $0) }
            }
        }
    }

    /// Closes the queue (the first reason stays) and returns the calls still waiting, for the caller to
    /// answer; a second close returns none.
    public func close(_ reason: String) -> [(id: UInt64, completion: Completion)] {
        let (pending, writer) = state.withLock { state -> ([UInt64: Completion], CheckedContinuation<Void, Never>?) in
            if state.closedReason == nil { state.closedReason = reason }
            defer {
                state.pending = [:]
                state.dueNs = [:]
                state.queue = []
                state.writer = nil
            }
            return (state.pending, state.writer)
        }
        writer?.resume()
        return pending.map { ($0.key, $0.value) }
    }

    public var isClosed: Bool { state.withLock { $0.closedReason != nil } }

    /// The writer is parked in `nextBatch` (for tests).
    public var writerIsWaiting: Bool { state.withLock { $0.writer != nil } }
}
