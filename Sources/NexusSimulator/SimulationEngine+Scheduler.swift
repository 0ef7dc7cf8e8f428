import NexusCore

/// The control plane's part: every beacon the simulated frontend reports its counts per stage and every node
/// beats, then the scheduler (the servers' `SchedulerState`) decides; a changed assignment is applied to the
/// simulated GPUs without losing a queued request.
extension SimulationEngine {
    mutating func registerGPUs(_ count: Int, nowNs: Int64) {
        for _ in 0..<count {
            let gpu = gpuNode.count
            let node = scheduler.register(kind: .backend, address: "simulated-gpu-\(gpu)", device: "simulated",
                                          runtime: "simulated", nowNs: nowNs)
            gpuNode.append(node)
            gpuOfNode[node] = gpu
        }
        growGPUs(to: gpuNode.count)
    }

    /// The frontend's calls per stage since its last report go to the scheduler.
    mutating func reportCounts(nowNs: Int64) {
        for stage in stageCount.indices where stageCount[stage] > 0 {
            let app = Int(stageApp[stage])
            scheduler.report(application: app, stage: stage - appFirstStage[app], requests: stageCount[stage])
            stageCount[stage] = 0
        }
        _ = scheduler.heartbeat(nodeID: frontendNode, utilization: 0, nowNs: nowNs)
    }

    /// A report between beacons, as the servers' frontends send them: a sudden rise is planned for now.
    mutating func report(nowNs: Int64) throws {
        reportCounts(nowNs: nowNs)
        scheduleReport(afterNs: nowNs)
        let plans = scheduler.planCount
        let changed = try scheduler.checkSuddenRise(nowNs: nowNs)
        if scheduler.planCount != plans { try applyAssignment(nowNs: nowNs, changed: changed) }
    }

    /// The next report a quarter beacon on; at a beacon the beacon reports.
    mutating func scheduleReport(afterNs nowNs: Int64) {
        let quarterNs = config.scheduler.beaconNs / Int64(SchedulerConfig.reportsPerBeacon)
        var next = nowNs + quarterNs
        if next % config.scheduler.beaconNs == 0 { next += quarterNs }
        if next < endNs { events.push(next, .report) }
    }

    mutating func beacon(nowNs: Int64) throws {
        reportCounts(nowNs: nowNs)
        for node in gpuNode { _ = scheduler.heartbeat(nodeID: node, utilization: 0, nowNs: nowNs) }
        let next = nowNs + config.scheduler.beaconNs
        if next < endNs { events.push(next, .beacon) }
        let plans = scheduler.planCount
        let changed = try scheduler.beacon(nowNs: nowNs)
        // Every plan counts as an epoch; only a changed assignment reaches the GPUs (the server pushes only those).
        if scheduler.planCount != plans { try applyAssignment(nowNs: nowNs, changed: changed) }
    }

    /// Applies the scheduler's assignment. An elastic cluster first gets the GPUs the plan is short of: they
    /// register, and the scheduler places the plan's remaining backends on them.
    mutating func applyAssignment(nowNs: Int64, changed: Bool = true) throws {
        let cause = scheduler.lastPlanCause ?? .start
        var changed = changed
        while scheduler.backendsShort > 0 {
            registerGPUs(scheduler.backendsShort, nowNs: nowNs)
            changed = try scheduler.update(nowNs: nowNs) || changed
        }
        guard let result = scheduler.current else { return }
        if config.checkPlans, config.policy.checksPlanInvariants {
            let violations = result.plan.invariantViolations()
            guard violations.isEmpty else { throw SimulationError.unsoundPlan(atSeconds: Double(nowNs) / 1e9, violations: violations) }
        }
        // Central dispatch and `triton-deployed` use every GPU of the cluster whatever the plan's packing needs.
        stats.recordPlan(result.plan, previous: plan, nowNs: nowNs, reason: cause.kind,
                         gpus: config.policy.placesEverywhere ? gpuNode.count : result.plan.gpus)
        plan = result.plan
        if changed { apply(scheduler.assignment, sessions: result.plan.sessions, nowNs: nowNs) }
    }

    /// Moves the GPUs to `assignment`: per (GPU, session) a slot with its queue; queued calls are taken out
    /// and routed again under the new routes, keeping their deadlines.
    mutating func apply(_ assignment: ClusterAssignment, sessions: [PlannedSession], nowNs: Int64) {
        var pending: [Int32] = []
        for slot in slotQueue.indices { slotQueue[slot].drain { call, _ in pending.append(call) } }
        for session in sessionQueue.indices { sessionQueue[session].drain { call, _ in pending.append(call) } }

        // Per-(GPU, session) state that outlives a plan (AIMD, a running batch), keyed by the old plan's ids.
        var oldSlot: [SlotKey: Int] = [:]
        for slot in slotGPU.indices where slotSession[slot] >= 0 {
            oldSlot[SlotKey(gpu: slotGPU[slot], session: sessionIDs[Int(slotSession[slot])])] = slot
        }
        let sessionIndex = applySessions(sessions, stages: assignment.stages)
        if case .central = executor { applyCentral(assignment, sessions: sessions, sessionIndex: sessionIndex) }
        let remap = applySlots(assignment, sessionIndex: sessionIndex, sessions: sessions, oldSlot: oldSlot)
        // A running job follows its session's slot; if the session left that GPU, it finishes without a follow-up.
        for g in gpuJobs.indices {
            for j in gpuJobs[g].indices where gpuJobs[g][j].slot >= 0 {
                gpuJobs[g][j].slot = remap[Int(gpuJobs[g][j].slot)]
            }
        }
        var routes = [[(target: Int32, weight: Double)]](repeating: [], count: sessions.count)
        if config.policy == .tritonDeployed {
            // A load balancer in front of identical servers: round robin over every GPU that loaded the model.
            for slot in slotGPU.indices { routes[Int(slotSession[slot])].append((Int32(slot), 1)) }
        }
        var slotOf: [SlotKey: Int32] = [:]
        for slot in slotGPU.indices { slotOf[SlotKey(gpu: slotGPU[slot], session: sessionIDs[Int(slotSession[slot])])] = Int32(slot) }
        for (index, session) in sessions.enumerated() where config.policy != .tritonDeployed {
            for target in assignment.routes[session.id] ?? [] {
                guard let gpu = gpuOfNode[target.nodeID], let slot = slotOf[SlotKey(gpu: Int32(gpu), session: session.id)] else { continue }
                routes[index].append((slot, target.ratePerSecond))
            }
        }
        sessionRoutes = routes.map { DeficitRoundRobin($0) }

        // Every moved call is queued before any executor starts, so an idle GPU starts with a full batch.
        for call in pending { route(call, nowNs: nowNs, startExecutors: false) }
        switch executor {
        case .turns:
            for g in gpuSlots.indices where !gpuBusy[g] { startTurn(gpu: g, nowNs: nowNs) }
        case .clipper:
            for slot in slotGPU.indices { startClipperBatch(slot: slot, nowNs: nowNs) }
        case .triton:
            for slot in slotGPU.indices { evaluateBatcher(slot: slot, nowNs: nowNs) }
        case .central:
            for session in sessionQueue.indices where !sessionQueue[session].isEmpty { centralArrival(session: session, nowNs: nowNs) }
            for gpu in gpuHolds.indices { centralGPUFree(gpu: gpu, nowNs: nowNs) }
        }
    }

    /// Sessions and the stages they serve, with each stage's deadline offset from `StageDeadlines`.
    mutating func applySessions(_ sessions: [PlannedSession], stages: [StageBinding]) -> [String: Int32] {
        var sessionIndex: [String: Int32] = [:]
        sessionIDs = sessions.map(\.id)
        for (index, id) in sessionIDs.enumerated() { sessionIndex[id] = Int32(index) }
        sessionCurves = sessions.map(\.curve)
        // The scheduler lists bindings application by application, stage by stage: the flattened stage order.
        for (a, app) in workload.applications.enumerated() {
            let first = appFirstStage[a]
            let budgets = app.stages.indices.map { stages[first + $0].budgetMs }
            let offsets = StageDeadlines.offsetsNs(budgetsMs: budgets, parents: app.parentIndices)
            for s in app.stages.indices {
                stageSession[first + s] = sessionIndex[stages[first + s].sessionID] ?? -1
                stageDeadlineOffsetNs[first + s] = offsets[s]
            }
        }
        return sessionIndex
    }

    /// One slot per entry of each GPU's model table, in table order; returns old slot -> new slot (-1: gone).
    mutating func applySlots(_ assignment: ClusterAssignment, sessionIndex: [String: Int32], sessions: [PlannedSession],
                             oldSlot: [SlotKey: Int]) -> [Int32] {
        var newGPU: [Int32] = [], newSession: [Int32] = [], newMaxBatch: [Int] = [], newGrowCap: [Int] = [], newLatency: [[Int64]] = []
        var newAIMD: [AIMDBatchSize?] = [], newBatcher: [DynamicBatchPolicy?] = []
        var newBusy: [Bool] = []
        var remap = [Int32](repeating: -1, count: slotGPU.count)
        let tables = config.policy == .tritonDeployed
            ? deployedTables(assignment, sessions: sessions, sessionIndex: sessionIndex)
            : gpuNode.map { node -> [SlotSpec] in
                guard let table = assignment.tables[node] else { return [] }
                let caps = table.growthCaps()
                return table.sessions.enumerated().map { index, entry in
                    let growCap = executor.growsIntoSlack ? caps[index] : entry.maxBatch
                    return SlotSpec(sessionID: entry.sessionID, maxBatch: entry.maxBatch,
                                    latencyNs: GPUQueues.latencyTable(entry, upTo: growCap), queueDelayNs: nil, growCap: growCap)
                }
            }
        for gpu in gpuSlots.indices {
            gpuSlots[gpu] = []
            for entry in tables[gpu] {
                guard let session = sessionIndex[entry.sessionID] else { continue }
                let planned = sessions[Int(session)]
                let slot = Int32(newGPU.count)
                newGPU.append(Int32(gpu))
                newSession.append(session)
                newMaxBatch.append(entry.maxBatch)
                newGrowCap.append(entry.growCap)
                newLatency.append(entry.latencyNs)
                gpuSlots[gpu].append(slot)
                let old = oldSlot[SlotKey(gpu: Int32(gpu), session: entry.sessionID)]
                if let old { remap[old] = slot }
                newAIMD.append(executor == .clipper ? old.flatMap { slotAIMD[$0] } ?? AIMDBatchSize(
                    maxBatch: planned.curve.maxBatch, latencySLONs: Int64((planned.gpuBudgetMs * 1e6).rounded())) : nil)
                newBatcher.append(executor == .triton ? DynamicBatchPolicy(
                    maxBatch: entry.maxBatch,
                    maxQueueDelayNs: entry.queueDelayNs ?? Int64((planned.latencySLOMs / 4 * 1e6).rounded())) : nil)
                newBusy.append(old.map { slotBusy[$0] } ?? false)
            }
            gpuTurns[gpu].sessionsChanged(count: gpuSlots[gpu].count)
        }
        slotGPU = newGPU
        slotSession = newSession
        slotMaxBatch = newMaxBatch
        slotGrowCap = newGrowCap
        slotLatencyNs = newLatency
        slotAIMD = newAIMD
        slotBatcher = newBatcher
        slotBusy = newBusy
        slotQueue = [DeadlineQueue<Int32>](repeating: DeadlineQueue(), count: newGPU.count)
        slotTimerVersion = [Int32](repeating: 0, count: newGPU.count)
        return remap
    }

    mutating func growGPUs(to count: Int) {
        let extra = count - gpuSlots.count
        guard extra > 0 else { return }
        gpuSlots += [[Int32]](repeating: [], count: extra)
        gpuTurns += [RoundRobinTurns](repeating: turnPolicy, count: extra)
        gpuBusy += [Bool](repeating: false, count: extra)
        gpuToken += [Int32](repeating: 0, count: extra)
        gpuRunning += [[Int32]](repeating: [], count: extra)
        gpuBusyNs += [Int64](repeating: 0, count: extra)
        gpuJobs += [[SharedJob]](repeating: [], count: extra)
        gpuLastUpdateNs += [Int64](repeating: 0, count: extra)
        gpuVersion += [Int32](repeating: 0, count: extra)
        gpuRunningSession += [Int32](repeating: -1, count: extra)
        gpuRunningStartNs += [Int64](repeating: 0, count: extra)
        gpuIdleSinceNs += [Int64](repeating: 0, count: extra)
    }

    /// A new GPU's turn policy (baselines that run models concurrently never ask it).
    var turnPolicy: RoundRobinTurns {
        if case let .turns(drop, grow) = executor { return RoundRobinTurns(drop: drop, growsIntoSlack: grow) }
        return RoundRobinTurns(drop: .lazy)
    }
}

/// One (GPU, session) entry: its batch cap, planned latency per batch size, and the dynamic batcher's
/// queue delay where the policy sets one.
struct SlotSpec {
    var sessionID: String
    var maxBatch: Int
    var latencyNs: [Int64]
    var queueDelayNs: Int64?
    /// The largest batch a visit may grow to (`nexus-next`); `maxBatch` otherwise.
    var growCap: Int
}

extension SimulationEngine {
    /// `triton-deployed`: every GPU loads every model it has the memory for; each model's dynamic batcher
    /// caps batches at the largest that runs within the model's budget and waits at most
    /// `tritonQueueDelayFraction` of that budget for a fuller batch.
    func deployedTables(_ assignment: ClusterAssignment, sessions: [PlannedSession], sessionIndex: [String: Int32]) -> [[SlotSpec]] {
        let specs = sessions.map { session -> SlotSpec in
            let curve = session.curve
            let maxBatch = max(1, curve.largestBatch(withLatencyAtMostMs: session.gpuBudgetMs))
            let latency = (0...maxBatch).map { $0 == 0 ? Int64(0) : Int64((curve.latencyMs[$0] * 1e6).rounded()) }
            let delayNs = Int64((session.gpuBudgetMs * (config.tritonQueueDelayFraction ?? 0.1) * 1e6).rounded())
            return SlotSpec(sessionID: session.id, maxBatch: maxBatch, latencyNs: latency, queueDelayNs: delayNs, growCap: maxBatch)
        }
        return placementGroups(assignment, sessions: sessions, sessionIndex: sessionIndex).map { $0.map { specs[Int($0)] } }
    }
}

struct SlotKey: Hashable {
    var gpu: Int32
    var session: String
}

extension SimulationPolicy {
    /// Squishy plans hold DESIGN.md §3.2's constraints; the baselines' allocations do not, by design.
    var checksPlanInvariants: Bool { !isBaseline }
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
