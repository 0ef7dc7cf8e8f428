import NexusCore

/// The scheduler's part: per-stage EWMA rates from the frontends' beacons, the epoch trigger, planning
/// with the policy's planner, and applying a new plan without losing a queued request.
extension SimulationEngine {
    mutating func beacon(nowNs: Int64) throws {
        for stage in stageCount.indices {
            stageRate[stage].record(count: stageCount[stage], intervalNs: config.beaconNs)
            stageCount[stage] = 0
        }
        let next = nowNs + config.beaconNs
        if next < endNs { events.push(next, .beacon) }
        guard let plan else { return }
        let rates = plan.sessions.indices.map { session -> (measuredPerSecond: Double, plannedPerSecond: Double) in
            let measured = sessionStages.indices.contains(session)
                ? sessionStages[session].reduce(0.0) { $0 + (stageRate[$1].ratePerSecond ?? 0) } : 0
            return (measured, plan.sessions[session].demandRatePerSecond)
        }
        // A session planned at rate 0 that now has traffic counts as a rise; stages without a session are
        // infeasible, and planning again does not change that.
        if let reason = config.epochTrigger.replanReason(nowNs: nowNs, lastPlanNs: lastPlanNs, rates: rates) {
            try replan(nowNs: nowNs, reason: reason == .epochElapsed ? "epoch" : "rate")
        }
    }

    mutating func replan(nowNs: Int64, reason: String) throws {
        var stageRates: [[Double]] = []
        for (a, app) in workload.applications.enumerated() {
            stageRates.append(app.stages.indices.map { stageRate[appFirstStage[a] + $0].ratePerSecond ?? 0 })
        }
        let result: EpochPlanner.Result
        if config.policy.usesSquishyPlanner {
            result = try epochPlanner.plan(applications: workload.applications, stageRates: stageRates, previous: current,
                                           maxBackends: config.gpus)
            if config.checkPlans {
                let violations = result.plan.invariantViolations()
                guard violations.isEmpty else { throw SimulationError.unsoundPlan(atSeconds: Double(nowNs) / 1e9, violations: violations) }
            }
        } else {
            let sessions = try epochPlanner.builder.build(applications: workload.applications, stageRates: stageRates)
            result = EpochPlanner.Result(sessions: sessions, plan: allocator.plan(sessions.demands, maxBackends: config.gpus))
        }
        apply(result, nowNs: nowNs, reason: reason)
    }

    mutating func apply(_ result: EpochPlanner.Result, nowNs: Int64, reason: String) {
        let newPlan = result.plan
        let sessions = result.sessions
        stats.recordPlan(newPlan, previous: plan, nowNs: nowNs, reason: reason)
        lastPlanNs = nowNs

        // Take every queued call out; they are routed again under the new plan below.
        var pending: [Int32] = []
        for slot in slotQueue.indices { slotQueue[slot].drain { call, _ in pending.append(call) } }

        // Per-(GPU, session) state that outlives a plan (AIMD, a running batch), keyed by the old plan's ids.
        var oldSlot: [SlotKey: Int] = [:]
        for slot in slotGPU.indices where slotSession[slot] >= 0 {
            oldSlot[SlotKey(gpu: slotGPU[slot], session: sessionIDs[Int(slotSession[slot])])] = slot
        }

        // Sessions.
        var sessionIndex: [String: Int32] = [:]
        sessionIDs = newPlan.sessions.map(\.id)
        for (index, id) in sessionIDs.enumerated() { sessionIndex[id] = Int32(index) }
        sessionCurves = newPlan.sessions.map(\.curve)
        sessionLatencyNs = sessionCurves.map { curve in curve.latencyMs.map { Int64(($0 * 1e6).rounded()) } }
        sessionStages = [[Int]](repeating: [], count: newPlan.sessions.count)
        for (a, app) in workload.applications.enumerated() {
            let parents = app.parentIndices
            // A deadline is the arrival plus every budget on the path; stages may be listed in any order.
            var offsets = [Int64?](repeating: nil, count: app.stages.count)
            func offset(_ s: Int) -> Int64 {
                if let known = offsets[s] { return known }
                let value = Int64((sessions.stageBudgetsMs[a][s] * 1e6).rounded()) + (parents[s].map(offset) ?? 0)
                offsets[s] = value
                return value
            }
            for s in app.stages.indices {
                let stage = appFirstStage[a] + s
                let index = sessionIndex[sessions.stageSessionIDs[a][s]] ?? -1
                stageSession[stage] = index
                if index >= 0 { sessionStages[Int(index)].append(stage) }
                stageDeadlineOffsetNs[stage] = offset(s)
            }
        }

        // Slots.
        let gpuCount = (newPlan.backends.map(\.id).max() ?? -1) + 1
        if gpuCount > gpuSlots.count { growGPUs(to: gpuCount) }
        var newGPU: [Int32] = [], newSession: [Int32] = [], newMaxBatch: [Int] = []
        var newAIMD: [AIMDBatchSize?] = [], newBatcher: [DynamicBatchPolicy?] = []
        var newBusy: [Bool] = []
        var remap = [Int32](repeating: -1, count: slotGPU.count)
        var routes = [[(target: Int32, weight: Double)]](repeating: [], count: newPlan.sessions.count)
        for g in gpuSlots.indices { gpuSlots[g] = [] }
        for backend in newPlan.backends {
            for allocation in backend.allocations {
                guard let session = sessionIndex[allocation.sessionID] else { continue }
                let planned = newPlan.sessions[Int(session)]
                let slot = Int32(newGPU.count)
                newGPU.append(Int32(backend.id))
                newSession.append(session)
                routes[Int(session)].append((slot, allocation.ratePerSecond))
                gpuSlots[backend.id].append(slot)
                let old = oldSlot[SlotKey(gpu: Int32(backend.id), session: allocation.sessionID)]
                if let old { remap[old] = slot }
                switch executor {
                case let .turns(_, cap):
                    newMaxBatch.append(cap == .planned ? allocation.batch : planned.saturated.batch)
                    newAIMD.append(nil)
                    newBatcher.append(nil)
                case .clipper:
                    newMaxBatch.append(planned.saturated.batch)
                    newAIMD.append(old.flatMap { slotAIMD[$0] } ?? AIMDBatchSize(
                        maxBatch: planned.curve.maxBatch, latencySLONs: Int64((planned.gpuBudgetMs * 1e6).rounded())))
                    newBatcher.append(nil)
                case .triton:
                    newMaxBatch.append(planned.saturated.batch)
                    newAIMD.append(nil)
                    newBatcher.append(DynamicBatchPolicy(
                        maxBatch: planned.saturated.batch, maxQueueDelayNs: Int64((planned.latencySLOMs / 4 * 1e6).rounded())))
                }
                newBusy.append(old.map { slotBusy[$0] } ?? false)
            }
        }
        // A running job follows its session's slot; if the session left that GPU, it finishes without a follow-up.
        for g in gpuJobs.indices {
            for j in gpuJobs[g].indices where gpuJobs[g][j].slot >= 0 {
                gpuJobs[g][j].slot = remap[Int(gpuJobs[g][j].slot)]
            }
        }
        slotGPU = newGPU
        slotSession = newSession
        slotMaxBatch = newMaxBatch
        slotAIMD = newAIMD
        slotBatcher = newBatcher
        slotBusy = newBusy
        slotQueue = [DeadlineQueue<Int32>](repeating: DeadlineQueue(), count: newGPU.count)
        slotTimerVersion = [Int32](repeating: 0, count: newGPU.count)
        sessionRoutes = routes.map { DeficitRoundRobin($0) }
        for g in gpuCursor.indices where gpuCursor[g] >= gpuSlots[g].count { gpuCursor[g] = 0 }
        current = result

        // Every moved call is queued before any executor starts, so an idle GPU starts with a full batch.
        for call in pending { route(call, nowNs: nowNs, startExecutors: false) }
        // Idle executors with work start now.
        switch executor {
        case .turns:
            for g in gpuSlots.indices where !gpuBusy[g] { startTurn(gpu: g, nowNs: nowNs) }
        case .clipper:
            for slot in slotGPU.indices { startClipperBatch(slot: slot, nowNs: nowNs) }
        case .triton:
            for slot in slotGPU.indices { evaluateBatcher(slot: slot, nowNs: nowNs) }
        }
    }

    mutating func growGPUs(to count: Int) {
        let extra = count - gpuSlots.count
        gpuSlots += [[Int32]](repeating: [], count: extra)
        gpuCursor += [Int](repeating: 0, count: extra)
        gpuBusy += [Bool](repeating: false, count: extra)
        gpuToken += [Int32](repeating: 0, count: extra)
        gpuRunning += [[Int32]](repeating: [], count: extra)
        gpuBusyNs += [Int64](repeating: 0, count: extra)
        gpuJobs += [[SharedJob]](repeating: [], count: extra)
        gpuLastUpdateNs += [Int64](repeating: 0, count: extra)
        gpuVersion += [Int32](repeating: 0, count: extra)
    }
}

struct SlotKey: Hashable {
    var gpu: Int32
    var session: String
}

public enum SimulationError: Error, CustomStringConvertible {
    case unsoundPlan(atSeconds: Double, violations: [String])

    public var description: String {
        switch self {
        case let .unsoundPlan(seconds, violations):
            return "plan at \(seconds) s violates DESIGN.md §3.2: \(violations.prefix(5).joined(separator: "; "))"
        }
    }
}
