import NexusCore

/// Backends that run one batch at a time and visit their sessions round-robin (Nexus's duty-cycle executor,
/// DESIGN.md §3.5, and the `tf-like` baseline): work-conserving, an empty queue is skipped.
extension SimulationEngine {
    mutating func startTurn(gpu: Int, nowNs: Int64) {
        guard case let .turns(drop, _) = executor else { return }
        let slots = gpuSlots[gpu]
        let count = slots.count
        for step in 0..<count {
            let position = (gpuCursor[gpu] + step) % count
            let slot = Int(slots[position])
            if slotQueue[slot].isEmpty { continue }
            let session = Int(slotSession[slot])
            let latency = sessionLatencyNs[session]
            let decision = slotQueue[slot].decideBatch(policy: drop, maxBatch: slotMaxBatch[slot], nowNs: nowNs) { latency[$0] }
            if decision.dropCount > 0 { dropFront(slot: slot, count: decision.dropCount, nowNs: nowNs) }
            guard decision.batchSize > 0 else { continue }
            var batch = gpuRunning[gpu]
            gpuRunning[gpu] = []
            slotQueue[slot].popFront(decision.batchSize, into: &batch)
            gpuRunning[gpu] = batch
            let durationNs = batchDurationNs(session: session, batch: decision.batchSize)
            gpuBusy[gpu] = true
            gpuToken[gpu] &+= 1
            accountBusy(gpu: gpu, fromNs: nowNs, toNs: nowNs + durationNs)
            gpuCursor[gpu] = (position + 1) % count
            stats.batches += 1
            stats.batchedCalls += decision.batchSize
            events.push(nowNs + durationNs, .batchDone, Int32(gpu), gpuToken[gpu])
            return
        }
        gpuBusy[gpu] = false
    }

    mutating func turnBatchDone(gpu: Int, token: Int32, nowNs: Int64) {
        guard token == gpuToken[gpu] else { return }
        var batch = gpuRunning[gpu]
        gpuRunning[gpu] = []
        for call in batch { completeCall(call, nowNs: nowNs) }
        batch.removeAll(keepingCapacity: true)
        gpuRunning[gpu] = batch
        gpuBusy[gpu] = false
        startTurn(gpu: gpu, nowNs: nowNs)
    }

    /// GPU time spent executing, counted only while clients send traffic (the drain afterwards is not
    /// part of the run's GPU-time either).
    mutating func accountBusy(gpu: Int, fromNs: Int64, toNs: Int64) {
        let end = min(toNs, endNs)
        if end > fromNs { gpuBusyNs[gpu] += end - fromNs }
    }

    /// Answers the first `count` requests of a slot's queue "dropped".
    mutating func dropFront(slot: Int, count: Int, nowNs: Int64) {
        var dropped = scratch
        scratch = []
        slotQueue[slot].popFront(count, into: &dropped)
        for call in dropped { dropCall(call, nowNs: nowNs) }
        dropped.removeAll(keepingCapacity: true)
        scratch = dropped
    }

    /// A simulated batch time: uniform between the profile's median and p99 for that batch size.
    mutating func batchDurationNs(session: Int, batch: Int) -> Int64 {
        let curve = sessionCurves[session]
        let low = curve.medianNs[batch], high = curve.p99Ns[batch]
        guard high > low else { return low }
        return low + Int64(serviceRandom.unit() * Double(high - low))
    }
}
