import NexusCore

/// Central dispatch (`symphony-like`, `shepherd-like`, `nexus-central`): one deadline queue per session for the
/// whole cluster, and GPUs that run whatever batch the dispatcher sends them. The decisions are NexusCore's
/// (`SchedulableWindow`, `onTimeBatch`, `PreemptionRule`, `PlacementGroups`); this file is the plumbing.
extension SimulationEngine {
    /// Symphony keeps 100 us before each deadline for timer jitter; so do we.
    static let dispatchJitterNs: Int64 = 100_000

    /// Session queues, latency tables and placement groups of a new plan. Calls queued under the old plan
    /// were taken out by `apply` and are routed again after this.
    mutating func applyCentral(_ assignment: ClusterAssignment, sessions: [PlannedSession], sessionIndex: [String: Int32]) {
        sessionQueue = [DeadlineQueue<Int32>](repeating: DeadlineQueue(), count: sessions.count)
        sessionTimerVersion = [Int32](repeating: 0, count: sessions.count)
        sessionMaxBatch = sessions.map(\.curve.maxBatch)
        sessionLatencyNs = sessions.map { session in
            (0...session.curve.maxBatch).map { $0 == 0 ? 0 : Int64((session.curve.latencyMs[$0] * 1e6).rounded()) }
        }
        gpuHolds = placementGroups(assignment, sessions: sessions, sessionIndex: sessionIndex)
        sessionGPUs = [[Int32]](repeating: [], count: sessions.count)
        for (gpu, held) in gpuHolds.enumerated() { for session in held { sessionGPUs[Int(session)].append(Int32(gpu)) } }
        // A batch still running belongs to the old plan's sessions: it completes, but is no longer comparable.
        for gpu in gpuRunningSession.indices { gpuRunningSession[gpu] = -1 }
    }

    /// The sessions each GPU holds: `nexus-central` widens the plan's placement, the peers load every model on
    /// every GPU that has the memory (`PlacementGroups.widen`).
    func placementGroups(_ assignment: ClusterAssignment, sessions: [PlannedSession], sessionIndex: [String: Int32]) -> [[Int32]] {
        let base: [[Int]] = gpuNode.map { node in
            guard config.policy == .nexusCentral else { return [] }
            return (assignment.tables[node]?.sessions ?? []).compactMap { sessionIndex[$0.sessionID].map(Int.init) }
        }
        let memoryMB = sessions.map { $0.curve.memoryMB[$0.curve.maxBatch] }
        let load = sessions.map { $0.ratePerSecond / max($0.saturated.throughputPerSecond, 1e-9) }
        return PlacementGroups.widen(base: base, sessionMemoryMB: memoryMB, sessionLoad: load, gpuMemoryMB: gpuMemoryMB)
            .map { $0.map(Int32.init) }
    }

    /// A call joined `session`'s queue.
    mutating func centralArrival(session: Int, nowNs: Int64) {
        guard case let .central(dispatch) = executor else { return }
        switch dispatch {
        case let .deferred(costs, choice): evaluateWindow(session: session, costs: costs, choice: choice, nowNs: nowNs)
        case let .largestOnTime(costs, rule): onTimeArrival(session: session, costs: costs, rule: rule, nowNs: nowNs)
        }
    }

    /// A GPU has nothing to run: it takes the next batch the policy gives it, or idles.
    mutating func centralGPUFree(gpu: Int, nowNs: Int64) {
        guard case let .central(dispatch) = executor, !gpuBusy[gpu] else { return }
        switch dispatch {
        case let .deferred(costs, _): takeLeastLaxity(gpu: gpu, costs: costs, nowNs: nowNs)
        case let .largestOnTime(costs, _): takeLargestOnTime(gpu: gpu, costs: costs, nowNs: nowNs)
        }
    }

    mutating func sessionTimer(session: Int, version: Int32, nowNs: Int64) {
        guard session < sessionTimerVersion.count, version == sessionTimerVersion[session] else { return }
        centralArrival(session: session, nowNs: nowNs)
    }

    mutating func centralBatchDone(gpu: Int, token: Int32, nowNs: Int64) {
        guard token == gpuToken[gpu] else { return }
        accountBusy(gpu: gpu, fromNs: gpuRunningStartNs[gpu], toNs: nowNs)
        completeRunningBatch(gpu: gpu, nowNs: nowNs)
        gpuRunningSession[gpu] = -1
        gpuIdleSinceNs[gpu] = nowNs
        centralGPUFree(gpu: gpu, nowNs: nowNs)
    }

    // MARK: deferred (symphony-like, nexus-central)

    private mutating func window(session: Int, costs: DispatchCosts, nowNs: Int64) -> SchedulableWindow? {
        let latency = sessionLatencyNs[session]
        guard let window = sessionQueue[session].schedulableWindow(
            maxBatch: sessionMaxBatch[session], nowNs: nowNs, costs: costs, jitterNs: Self.dispatchJitterNs,
            latencyNs: { latency[$0] }) else { return nil }
        if window.dropCount > 0 { dropSessionFront(session: session, count: window.dropCount, nowNs: nowNs) }
        return window.batchSize > 0 ? window : nil
    }

    mutating func evaluateWindow(session: Int, costs: DispatchCosts, choice: SimulationPolicy.GPUChoice, nowNs: Int64) {
        guard let window = window(session: session, costs: costs, nowNs: nowNs) else { return }
        if window.readyAtNs > nowNs {
            timerSerial &+= 1
            sessionTimerVersion[session] = timerSerial
            events.push(window.readyAtNs, .sessionTimer, Int32(session), timerSerial)
            return
        }
        // Ready: an idle GPU of its group takes it now; else the next GPU to free ranks it by laxity.
        if let gpu = idleGPU(session: session, choice: choice) {
            startCentralBatch(gpu: gpu, session: session, batch: window.batchSize, nowNs: nowNs)
        }
    }

    /// Among the GPU's sessions whose window is open, the one that must start soonest.
    private mutating func takeLeastLaxity(gpu: Int, costs: DispatchCosts, nowNs: Int64) {
        var best = -1, bestBatch = 0, bestLastStart = Int64.max
        for held in gpuHolds[gpu] {
            let session = Int(held)
            guard !sessionQueue[session].isEmpty, let window = window(session: session, costs: costs, nowNs: nowNs),
                  window.readyAtNs <= nowNs, window.lastStartNs < bestLastStart else { continue }
            best = session
            bestBatch = window.batchSize
            bestLastStart = window.lastStartNs
        }
        if best >= 0 { startCentralBatch(gpu: gpu, session: best, batch: bestBatch, nowNs: nowNs) }
    }

    private func idleGPU(session: Int, choice: SimulationPolicy.GPUChoice) -> Int? {
        var best = -1
        for candidate in sessionGPUs[session] {
            let gpu = Int(candidate)
            guard !gpuBusy[gpu] else { continue }
            if best < 0 { best = gpu; continue }
            switch choice {
            case .earliestFree:
                if gpuIdleSinceNs[gpu] < gpuIdleSinceNs[best] { best = gpu }
            case .fewestSessions:
                let held = gpuHolds[gpu].count, bestHeld = gpuHolds[best].count
                if held < bestHeld || (held == bestHeld && gpuIdleSinceNs[gpu] < gpuIdleSinceNs[best]) { best = gpu }
            }
        }
        return best >= 0 ? best : nil
    }

    // MARK: largest on-time batch (shepherd-like)

    private mutating func onTimeBatch(session: Int, costs: DispatchCosts, nowNs: Int64) -> Int {
        let latency = sessionLatencyNs[session]
        let decision = sessionQueue[session].onTimeBatch(maxBatch: sessionMaxBatch[session], nowNs: nowNs, costs: costs,
                                                         latencyNs: { latency[$0] })
        if decision.dropCount > 0 { dropSessionFront(session: session, count: decision.dropCount, nowNs: nowNs) }
        return decision.batchSize
    }

    /// BatchGen over every session the GPU holds: the largest batch whose earliest deadline holds.
    private mutating func takeLargestOnTime(gpu: Int, costs: DispatchCosts, nowNs: Int64) {
        var best = -1, bestBatch = 0
        for held in gpuHolds[gpu] where !sessionQueue[Int(held)].isEmpty {
            let batch = onTimeBatch(session: Int(held), costs: costs, nowNs: nowNs)
            if batch > bestBatch { best = Int(held); bestBatch = batch }
        }
        if best >= 0 { startCentralBatch(gpu: gpu, session: best, batch: bestBatch, nowNs: nowNs) }
    }

    /// An idle GPU of the group runs BatchGen; otherwise the new batch preempts the smallest running batch
    /// it is lambda times larger than.
    private mutating func onTimeArrival(session: Int, costs: DispatchCosts, rule: PreemptionRule, nowNs: Int64) {
        if let gpu = idleGPU(session: session, choice: .earliestFree) {
            takeLargestOnTime(gpu: gpu, costs: costs, nowNs: nowNs)
            return
        }
        let batch = onTimeBatch(session: session, costs: costs, nowNs: nowNs)
        guard batch > 0 else { return }
        var victim = -1
        for candidate in sessionGPUs[session] {
            let gpu = Int(candidate)
            guard gpuRunningSession[gpu] != Int32(session), rule.preempts(newBatch: batch, runningBatch: gpuRunning[gpu].count),
                  victim < 0 || gpuRunning[gpu].count < gpuRunning[victim].count else { continue }
            victim = gpu
        }
        guard victim >= 0 else { return }
        preempt(gpu: victim, nowNs: nowNs)
        startCentralBatch(gpu: victim, session: session, batch: batch, nowNs: nowNs)
    }

    /// Stops the GPU's batch: its work so far is lost and its calls go back to their queues.
    private mutating func preempt(gpu: Int, nowNs: Int64) {
        accountBusy(gpu: gpu, fromNs: gpuRunningStartNs[gpu], toNs: nowNs)
        gpuToken[gpu] &+= 1
        let calls = gpuRunning[gpu]
        gpuRunning[gpu] = []
        gpuBusy[gpu] = false
        gpuRunningSession[gpu] = -1
        gpuIdleSinceNs[gpu] = nowNs
        stats.preemptions += 1
        for call in calls { route(call, nowNs: nowNs, startExecutors: false) }
    }

    // MARK: shared

    mutating func startCentralBatch(gpu: Int, session: Int, batch: Int, nowNs: Int64) {
        var calls = gpuRunning[gpu]
        gpuRunning[gpu] = []
        calls.removeAll(keepingCapacity: true)
        sessionQueue[session].popFront(batch, into: &calls)
        gpuRunning[gpu] = calls
        // The dispatcher planned to the deadline with the transfer's cost included; the transfer itself overlaps
        // the GPU's previous batch (Symphony sends when the GPU is about to free), so the GPU is held, and the
        // batch takes, only its execution. This errs in the dispatchers' favour.
        let durationNs = batchDurationNs(session: session, batch: batch)
        gpuBusy[gpu] = true
        gpuToken[gpu] &+= 1
        gpuRunningSession[gpu] = Int32(session)
        gpuRunningStartNs[gpu] = nowNs
        stats.batches += 1
        stats.batchedCalls += batch
        events.push(nowNs + durationNs, .centralBatchDone, Int32(gpu), gpuToken[gpu])
    }

    /// Answers the first `count` calls of a session's queue "dropped".
    mutating func dropSessionFront(session: Int, count: Int, nowNs: Int64) {
        dropPopped(nowNs: nowNs) { engine, calls in engine.sessionQueue[session].popFront(count, into: &calls) }
    }
}
