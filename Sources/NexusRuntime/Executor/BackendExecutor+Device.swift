import Foundation
import NexusCore

extension BackendExecutor {
    /// One batch chosen under the lock and run outside it.
    struct DeviceBatch {
        var session: ExecutorSession
        var batch: [ExecutorSession.Pending]
        var models: [any LoadedModel]
        var prefixModel: (any LoadedModel)?
    }

    func deviceLoop() {
        condition.lock()
        while true {
            if stopping && !isFinishingQueued() {
                let abandoned = drainAll()
                condition.unlock()
                for pending in abandoned { pending.completion(.failure(.unavailable("backend is shutting down")), nil) }
                condition.lock()
                if sessions.values.allSatisfy(\.isIdle) {
                    condition.unlock()
                    return
                }
                condition.wait()
                continue
            }
            let (turn, dropped) = nextTurn()
            if turn == nil && dropped.isEmpty {
                if stopping, let finishNs = finishQueuedUntilNs {
                    // Draining with requests still decoding: wake for them, or when the time is up (looked at
                    // again at least every second; a far deadline is no valid date for the wait).
                    let leftS = min(1, max(0, (Double(finishNs) - Double(clock.nowNs())) / 1e9))
                    _ = condition.wait(until: Date(timeIntervalSinceNow: leftS))
                } else {
                    condition.wait()
                }
                continue
            }
            condition.unlock()
            for pending in dropped {
                pending.completion(.failure(.earlyDrop), nil)
            }
            if let turn { execute(turn) }
            condition.lock()
        }
    }

    /// Stopping gracefully with work left and time to run it: the device goes on taking turns. Under the lock.
    func isFinishingQueued() -> Bool {
        guard let finishNs = finishQueuedUntilNs, clock.nowNs() < finishNs else { return false }
        return !sessions.values.allSatisfy(\.isIdle)
    }

    /// Asks the core's turn policy (`RoundRobinTurns`, the one the simulated GPUs ask) for the next turn over
    /// the sessions in visiting order; its drops are taken out of the queue to be answered. Also retires
    /// drained sessions. Under the lock.
    func nextTurn() -> (DeviceBatch?, [ExecutorSession.Pending]) {
        retireDrainedSessions()
        let visiting = ExecutorQueues(sessions: order.map { sessions[$0]! })
        let nowNs = clock.nowNs()
        guard let turn = turns.nextTurn(visiting, nowNs: nowNs) else { return (nil, []) }
        let session = visiting.sessions[turn.session]
        // The same decision the policy was shown (same queue, same time), now per priority level.
        let decision = session.decide(drop: turns.drop, nowNs: nowNs, grow: turns.growsIntoSlack)
        assert(decision.batch == BatchDecision(dropCount: turn.dropCount, batchSize: turn.batchSize),
                     "turn \(turn) but the session decides \(decision.batch)")
        var dropped: [ExecutorSession.Pending] = []
        var batch: [ExecutorSession.Pending] = []
        batch.reserveCapacity(turn.batchSize)
        session.queue.pop(decision, dropped: &dropped, batch: &batch)
        statistics.dropped += dropped.count
        if !dropped.isEmpty { session.metrics.earlyDrops.increment(by: dropped.count) }
        defer { session.metrics.queueLength.record(session.queue.count) }
        guard turn.batchSize > 0 else { return (nil, dropped) }
        let chosen = DeviceBatch(session: session, batch: batch, models: session.members.map { loaded[$0.name]! },
                                 prefixModel: session.prefix.map { loaded[$0.name]! })
        return (chosen, dropped)
    }

    /// Runs one batch. A prefix group runs its prefix once over the batch grouped by member, then each
    /// member's head on its slice (DESIGN.md §3.4).
    func execute(_ turn: DeviceBatch) {
        let session = turn.session
        let batch = turn.prefixModel == nil ? turn.batch : turn.batch.enumerated()
            .sorted { ($0.element.member, $0.offset) < ($1.element.member, $1.offset) }.map(\.element)
        let gatherNs = clock.nowNs()
        var input: [Float] = []
        input.reserveCapacity(batch.count * session.members[0].input.elementCount)
        for pending in batch { input.append(contentsOf: pending.input) }

        let startedNs = clock.nowNs()
        var splitNs: Int64 = 0
        func timedSplit(_ outputs: any ModelOutputs, rows: Int, spec: ModelSpec) throws -> [InferenceOutcome] {
            let splitStartNs = clock.nowNs()
            defer { splitNs += clock.nowNs() - splitStartNs }
            return try self.split(outputs, rows: rows, spec: spec)
        }
        var outcomes: [InferenceOutcome] = []
        outcomes.reserveCapacity(batch.count)
        do {
            if let prefixModel = turn.prefixModel {
                let features = try input.withUnsafeBufferPointer { try prefixModel.run($0, batch: batch.count) }
                var start = 0
                while start < batch.count {
                    let member = batch[start].member
                    var end = start
                    while end < batch.count, batch[end].member == member { end += 1 }
                    let outputs = try turn.models[member].run(on: features, rows: start..<end)
                    outcomes += try timedSplit(outputs, rows: end - start, spec: session.members[member])
                    start = end
                }
            } else {
                let outputs = try input.withUnsafeBufferPointer { try turn.models[0].run($0, batch: batch.count) }
                outcomes = try timedSplit(outputs, rows: batch.count, spec: session.members[0])
            }
        } catch {
            outcomes = Array(repeating: .failure(.internalError("\(error)")), count: batch.count)
        }
        let durationNs = clock.nowNs() - startedNs
        record(turn, batch: batch, startedNs: startedNs, durationNs: durationNs)

        condition.lock()
        session.observed.record(batch: batch.count, durationNs: durationNs)
        statistics.record(batch: batch.count, durationNs: durationNs, outcomes: outcomes)
        condition.unlock()
        let timing = BatchTiming(batchSize: batch.count, computeInputNs: startedNs - gatherNs,
                                 computeInferNs: durationNs - splitNs, computeOutputNs: splitNs)
        for (pending, outcome) in zip(batch, outcomes) { pending.completion(outcome, timing) }
    }

    /// Metrics of one batch, on the device thread outside the lock: its requests' queue times, its size, its
    /// time against the profile's for the same size, and the device's busy time.
    func record(_ turn: DeviceBatch, batch: [ExecutorSession.Pending], startedNs: Int64, durationNs: Int64) {
        let metrics = turn.session.metrics
        for pending in batch { metrics.queueDuration.recordNanoseconds(startedNs - pending.queuedNs) }
        metrics.batchSize.record(batch.count)
        metrics.batchDuration.recordNanoseconds(durationNs)
        if let plannedNs = turn.session.entry.plannedLatencyNs(batch: batch.count) {
            metrics.batchProfileDuration.recordNanoseconds(plannedNs)
        }
        deviceMetrics.busySeconds.increment(by: Double(durationNs) / 1e9)
    }

    /// Cuts each output into per-request tensors, checking the model returned what its model.yaml declares.
    func split(_ outputs: any ModelOutputs, rows: Int, spec: ModelSpec) throws -> [InferenceOutcome] {
        guard outputs.count >= spec.outputs.count else {
            throw RuntimeError.execution(model: spec.name, message: "returned \(outputs.count) outputs; model.yaml declares \(spec.outputs.count)")
        }
        var perRequest = [[OutputTensor]](repeating: [], count: rows)
        for (index, declared) in spec.outputs.enumerated() {
            let shape = outputs.shape(at: index)
            guard shape.first == rows, Array(shape.dropFirst()) == declared.shape else {
                throw RuntimeError.execution(model: spec.name,
                                             message: "output \(index) ('\(declared.name)') has shape \(shape); model.yaml declares [\(rows)] + \(declared.shape)")
            }
            let values = try outputs.floats(at: index)
            let size = declared.elementCount
            for row in 0..<rows {
                perRequest[row].append(OutputTensor(name: declared.name, shape: declared.shape,
                                                    values: Array(values[(row * size)..<((row + 1) * size)])))
            }
        }
        return perRequest.map { .success($0) }
    }

    /// Removes sessions that left the table and have nothing left, and unloads models no session uses.
    func retireDrainedSessions() {
        let retired = order.filter { sessions[$0].map { $0.draining && $0.isIdle } ?? true }
        guard !retired.isEmpty else { return }
        for id in retired { sessions[id] = nil }
        order.removeAll { sessions[$0] == nil }
        turns.sessionsChanged(count: order.count)
        let needed = Set(sessions.values.flatMap(\.modelNames))
        for name in loaded.keys where !needed.contains(name) { loaded[name] = nil }
    }

    /// Empties every queue (shutdown). Under the lock.
    func drainAll() -> [ExecutorSession.Pending] {
        var abandoned: [ExecutorSession.Pending] = []
        for session in sessions.values { session.queue.drain { pending, _ in abandoned.append(pending) } }
        statistics.unavailable += abandoned.count
        return abandoned
    }
}

/// The executor's sessions as `TurnPolicy` sees them: deadline queues in visiting order, each capped at its
/// table entry's batch, with the latencies early drop assumes (`ExecutorSession.latencyNs`).
struct ExecutorQueues: TurnQueues {
    let sessions: [ExecutorSession]

    var sessionCount: Int { sessions.count }

    func isEmpty(session: Int) -> Bool { sessions[session].queue.isEmpty }

    func decideBatch(session: Int, drop: DropPolicy, nowNs: Int64) -> BatchDecision {
        sessions[session].decide(drop: drop, nowNs: nowNs, grow: false).batch
    }

    func decideGrownBatch(session: Int, drop: DropPolicy, nowNs: Int64) -> BatchDecision {
        sessions[session].decide(drop: drop, nowNs: nowNs, grow: true).batch
    }
}
