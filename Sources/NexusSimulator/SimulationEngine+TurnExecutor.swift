import NexusCore

/// Backends that run one batch at a time and take turns over their sessions (Nexus's executor, DESIGN.md
/// §3.5, and `tf-like`): each GPU asks NexusCore's `TurnPolicy` for its next turn, as the backend executor's
/// device thread does, over a view of its own queues.
extension SimulationEngine {
    mutating func startTurn(gpu: Int, nowNs: Int64) {
        guard case .turns = executor else { return }
        while true {
            var turns = gpuTurns[gpu]
            let next = turns.nextTurn(GPUQueues(slots: gpuSlots[gpu], queues: slotQueue, maxBatch: slotMaxBatch,
                                                growCap: slotGrowCap, latencyNs: slotLatencyNs), nowNs: nowNs)
            gpuTurns[gpu] = turns
            guard let turn = next else { break }
            let slot = Int(gpuSlots[gpu][turn.session])
            if turn.dropCount > 0 { dropFront(slot: slot, count: turn.dropCount, nowNs: nowNs) }
            guard turn.batchSize > 0 else { continue }
            var batch = gpuRunning[gpu]
            gpuRunning[gpu] = []
            slotQueue[slot].popFront(turn.batchSize, into: &batch)
            gpuRunning[gpu] = batch
            let durationNs = batchDurationNs(session: Int(slotSession[slot]), batch: turn.batchSize)
            gpuBusy[gpu] = true
            gpuToken[gpu] &+= 1
            accountBusy(gpu: gpu, fromNs: nowNs, toNs: nowNs + durationNs)
            stats.batches += 1
            stats.batchedCalls += turn.batchSize
            events.push(nowNs + durationNs, .batchDone, Int32(gpu), gpuToken[gpu])
            return
        }
        gpuBusy[gpu] = false
    }

    mutating func turnBatchDone(gpu: Int, token: Int32, nowNs: Int64) {
        guard token == gpuToken[gpu] else { return }
        completeRunningBatch(gpu: gpu, nowNs: nowNs)
        startTurn(gpu: gpu, nowNs: nowNs)
    }

    /// The GPU's batch has finished: its calls complete (their children leave for the backends) and the GPU is
    /// free. The running buffer is kept for the next batch.
    mutating func completeRunningBatch(gpu: Int, nowNs: Int64) {
        var batch = gpuRunning[gpu]
        gpuRunning[gpu] = []
        for call in batch { completeCall(call, nowNs: nowNs) }
        batch.removeAll(keepingCapacity: true)
        gpuRunning[gpu] = batch
        gpuBusy[gpu] = false
    }

    /// GPU time spent executing, counted only while clients send traffic (the drain afterwards is not
    /// part of the run's GPU-time either).
    mutating func accountBusy(gpu: Int, fromNs: Int64, toNs: Int64) {
        let end = min(toNs, endNs)
        if end > fromNs { gpuBusyNs[gpu] += end - fromNs }
    }

    /// Answers the first `count` requests of a slot's queue "dropped".
    mutating func dropFront(slot: Int, count: Int, nowNs: Int64) {
        dropPopped(nowNs: nowNs) { engine, calls in engine.slotQueue[slot].popFront(count, into: &calls) }
    }

    /// Answers "dropped" every call `pop` takes out of a queue, through the reused scratch buffer (the hot
    /// path allocates nothing).
    mutating func dropPopped(nowNs: Int64, _ pop: (inout SimulationEngine, inout [Int32]) -> Void) {
        var dropped = scratch
        scratch = []
        pop(&self, &dropped)
        for call in dropped { dropCall(call, nowNs: nowNs) }
        dropped.removeAll(keepingCapacity: true)
        scratch = dropped
    }

    /// A simulated batch time, as the SIMULATED runtime of the servers draws it.
    mutating func batchDurationNs(session: Int, batch: Int) -> Int64 {
        let curve = sessionCurves[session]
        // A draw only where median and p99 differ, as before: the random stream stays the same.
        guard curve.p99Ns[batch] > curve.medianNs[batch] else { return curve.medianNs[batch] }
        return curve.simulatedDurationNs(batch: batch, unit: serviceRandom.unit())
    }
}

/// One simulated GPU's sessions as `TurnPolicy` sees them: its slots in table order, each a deadline queue
/// with its table entry's batch cap and planned latencies, read as the backend executor reads them.
struct GPUQueues: TurnQueues {
    let slots: [Int32]
    let queues: [DeadlineQueue<Int32>]
    let maxBatch: [Int]
    /// Per slot, the largest batch a visit may grow to (`ModelTable.growthCaps`).
    let growCap: [Int]
    /// Per slot, indexed by batch size.
    let latencyNs: [[Int64]]

    /// A slot's latencies for batches 0...upTo (default: the planned batch) from its table entry
    /// (`ModelTable.Entry.plannedLatencyNs`).
    static func latencyTable(_ entry: ModelTable.Entry, upTo: Int? = nil) -> [Int64] {
        (0...(upTo ?? entry.maxBatch)).map { $0 == 0 ? 0 : entry.plannedLatencyNs(batch: $0) ?? 0 }
    }

    var sessionCount: Int { slots.count }

    func isEmpty(session: Int) -> Bool { queues[Int(slots[session])].isEmpty }

    func decideBatch(session: Int, drop: DropPolicy, nowNs: Int64) -> BatchDecision {
        let slot = Int(slots[session])
        let latency = latencyNs[slot]
        return queues[slot].decideBatch(policy: drop, maxBatch: maxBatch[slot], nowNs: nowNs) { latency[$0] }
    }

    func decideGrownBatch(session: Int, drop: DropPolicy, nowNs: Int64) -> BatchDecision {
        let slot = Int(slots[session])
        let latency = latencyNs[slot]
        return queues[slot].decideBatch(policy: drop, maxBatch: maxBatch[slot], growUpTo: growCap[slot], nowNs: nowNs) { latency[$0] }
    }
}
