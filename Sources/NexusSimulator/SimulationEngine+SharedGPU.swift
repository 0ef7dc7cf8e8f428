import NexusCore

/// Baselines whose models run concurrently on one GPU (`clipper-like`, `triton-like`).
///
/// Concurrency is modelled as processor sharing: with `k` batches in flight each progresses at `1/k` of
/// its solo speed. The GPU's total work is conserved, so sharing is never faster than running the batches
/// one after another (real GPUs often do a little better on small batches, and a lot worse on large ones
/// through cache and memory contention; we give the baselines the benefit of the doubt).
extension SimulationEngine {
    /// Brings every in-flight job's remaining work up to `nowNs`.
    mutating func advanceSharedGPU(_ gpu: Int, nowNs: Int64) {
        let since = gpuLastUpdateNs[gpu]
        let elapsed = Double(nowNs - since)
        gpuLastUpdateNs[gpu] = nowNs
        let jobs = gpuJobs[gpu].count
        guard jobs > 0, elapsed > 0 else { return }
        accountBusy(gpu: gpu, fromNs: since, toNs: nowNs)
        let progress = elapsed / Double(jobs)
        for j in gpuJobs[gpu].indices { gpuJobs[gpu][j].remainingNs -= progress }
    }

    /// Schedules a tick for the next job to finish at the current sharing level.
    mutating func scheduleSharedGPU(_ gpu: Int, nowNs: Int64) {
        gpuVersion[gpu] &+= 1
        guard let shortest = gpuJobs[gpu].map(\.remainingNs).min() else { return }
        let waitNs = Int64((max(0, shortest) * Double(gpuJobs[gpu].count)).rounded(.up))
        events.push(nowNs + waitNs, .sharedGPUTick, Int32(gpu), gpuVersion[gpu])
    }

    mutating func startSharedJob(slot: Int, calls: [Int32], nowNs: Int64) {
        let gpu = Int(slotGPU[slot])
        advanceSharedGPU(gpu, nowNs: nowNs)
        let work = Double(batchDurationNs(session: Int(slotSession[slot]), batch: calls.count))
        gpuJobs[gpu].append(SharedJob(slot: Int32(slot), remainingNs: work, calls: calls, startNs: nowNs))
        slotBusy[slot] = true
        stats.batches += 1
        stats.batchedCalls += calls.count
        scheduleSharedGPU(gpu, nowNs: nowNs)
    }

    mutating func sharedGPUTick(gpu: Int, version: Int32, nowNs: Int64) {
        guard version == gpuVersion[gpu] else { return }
        advanceSharedGPU(gpu, nowNs: nowNs)
        var finished: [SharedJob] = []
        gpuJobs[gpu].removeAll { job in
            guard job.remainingNs <= 1 else { return false }
            finished.append(job)
            return true
        }
        scheduleSharedGPU(gpu, nowNs: nowNs)
        for job in finished { sharedJobDone(job, nowNs: nowNs) }
    }

    /// The job's slot is -1 when the plan moved the session away while its batch ran: its calls are still
    /// answered, and nothing follows on that GPU.
    mutating func sharedJobDone(_ job: SharedJob, nowNs: Int64) {
        for call in job.calls { completeCall(call, nowNs: nowNs) }
        let slot = Int(job.slot)
        guard slot >= 0 else { return }
        slotBusy[slot] = false
        if executor == .clipper {
            slotAIMD[slot]?.record(batchLatencyNs: nowNs - job.startNs)
            startClipperBatch(slot: slot, nowNs: nowNs)
        } else {
            evaluateBatcher(slot: slot, nowNs: nowNs)
        }
    }

    // MARK: clipper-like

    mutating func startClipperBatch(slot: Int, nowNs: Int64) {
        guard !slotBusy[slot], !slotQueue[slot].isEmpty, let aimd = slotAIMD[slot] else { return }
        let latency = slotLatencyNs[slot]
        let decision = slotQueue[slot].decideBatch(policy: .lazy, maxBatch: aimd.batchSize, nowNs: nowNs) { latency[$0] }
        takeBatch(slot: slot, decision: decision, nowNs: nowNs)
    }

    // MARK: triton-like

    mutating func evaluateBatcher(slot: Int, nowNs: Int64) {
        guard !slotBusy[slot], !slotQueue[slot].isEmpty, let batcher = slotBatcher[slot] else { return }
        let queued = slotQueue[slot].count
        // Triton's queue is in arrival order; ours is in deadline order, so look for the oldest arrival
        // (only needed below a full batch, so at most maxBatch entries).
        var oldest = Int64.max
        if queued < batcher.maxBatch {
            for offset in 0..<queued { oldest = min(oldest, callArrivalNs[Int(slotQueue[slot].payload(at: offset))]) }
        }
        switch batcher.decide(queued: queued, oldestArrivalNs: oldest, nowNs: nowNs) {
        case .idle:
            return
        case let .waitUntil(dueNs):
            timerSerial &+= 1
            slotTimerVersion[slot] = timerSerial
            events.push(dueNs, .batcherTimer, Int32(slot), slotTimerVersion[slot])
        case .run:
            let latency = slotLatencyNs[slot]
            // Queue timeout = the deadline: what has expired is rejected, the rest runs.
            let decision = slotQueue[slot].decideBatch(policy: .lazy, maxBatch: batcher.maxBatch, nowNs: nowNs) { latency[$0] }
            takeBatch(slot: slot, decision: decision, nowNs: nowNs)
        }
    }

    mutating func batcherTimer(slot: Int, version: Int32, nowNs: Int64) {
        guard slot < slotTimerVersion.count, version == slotTimerVersion[slot] else { return }
        evaluateBatcher(slot: slot, nowNs: nowNs)
    }

    private mutating func takeBatch(slot: Int, decision: BatchDecision, nowNs: Int64) {
        if decision.dropCount > 0 { dropFront(slot: slot, count: decision.dropCount, nowNs: nowNs) }
        guard decision.batchSize > 0 else { return }
        var calls: [Int32] = []
        calls.reserveCapacity(decision.batchSize)
        slotQueue[slot].popFront(decision.batchSize, into: &calls)
        startSharedJob(slot: slot, calls: calls, nowNs: nowNs)
    }
}
