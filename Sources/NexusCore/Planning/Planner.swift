/// The epoch planner (DESIGN.md §3.2): squishy bin packing with a memory check, consolidation and
/// stability between epochs. Pure: the same demands and previous plan always give the same plan.
public struct Planner: Sendable {
    public var config: PlannerConfig

    public init(config: PlannerConfig = PlannerConfig()) { self.config = config }

    /// Plans `demands`. With `previous`, sessions whose demand stayed within `config.stabilityBand` of the
    /// demand they were placed for keep their placement (step 6). With `maxBackends`, a plan that needs more
    /// backends than the cluster has carries the largest common fraction of every session's demand that
    /// fits (`admittedFraction`), so an overload is shared evenly instead of starving whole sessions.
    public func plan(_ demands: [SessionDemand], previous: Plan? = nil, maxBackends: Int? = nil) -> Plan {
        let planned = plan(demands, previous: previous, admittedFraction: 1)
        guard let maxBackends else { return planned }
        if planned.gpus < maxBackends, config.fillsCluster { return filled(demands, planned: planned, previous: previous, maxBackends: maxBackends) }
        guard planned.gpus > maxBackends else { return planned }
        let shared = sharedEvenly(demands, maxBackends: maxBackends, whole: previous == nil ? planned : nil)
        if shared.admittedFraction > 0 || demands.isEmpty { return shared }
        return wholeSessionsThatFit(demands, maxBackends: maxBackends)
    }

    /// `fillsCluster`: the plan for the largest common multiple (> 1) of every session's rate that fits
    /// `maxBackends`. Last epoch's filled plan is kept while it still covers every demand with its headroom
    /// (same sessions and budgets), so a filled cluster does not move models at every small rate change.
    func filled(_ demands: [SessionDemand], planned: Plan, previous: Plan?, maxBackends: Int) -> Plan {
        if let previous, previous.admittedFraction > 1, previous.gpus <= maxBackends, previous.sessions.count == demands.count {
            let old = Dictionary(uniqueKeysWithValues: previous.sessions.map { ($0.id, $0) })
            let covered = demands.allSatisfy { demand in
                guard let session = old[demand.id] else { return false }
                return session.gpuBudgetMs == demand.gpuBudgetMs && demand.ratePerSecond * (1 + config.rateHeadroom) <= session.ratePerSecond
            }
            if covered { return previous }
        }
        let upperBound = min(1000, 4 * Double(maxBackends) / Double(max(planned.gpus, 1)))
        let fill = largestAdmittedPlan(maxBackends: maxBackends, upperBound: upperBound) {
            plan(demands, previous: nil, admittedFraction: $0)
        }
        return fill.admittedFraction > 1 ? fill : planned
    }

    /// Without previous placements: every session at its whole rate if that fits `maxBackends`, else the
    /// largest common fraction of every rate that does (`whole`: the full-rate plan, when already made).
    func sharedEvenly(_ demands: [SessionDemand], maxBackends: Int, whole: Plan? = nil) -> Plan {
        let fresh = whole ?? plan(demands, previous: nil, admittedFraction: 1)
        if fresh.gpus <= maxBackends { return fresh }
        return largestAdmittedPlan(maxBackends: maxBackends) { plan(demands, previous: nil, admittedFraction: $0) }
    }

    /// When not even a sliver of every session fits (sessions that cannot share a device, by memory or by
    /// duty cycle, outnumber the backends), sharing evenly would plan nothing at all. Instead: the sessions
    /// that fit together, cheapest first (fewest GPUs alone), each at the largest common fraction; the rest
    /// are listed infeasible with the reason, so the operator sees what the cluster is short of.
    func wholeSessionsThatFit(_ demands: [SessionDemand], maxBackends: Int) -> Plan {
        let cost = Dictionary(uniqueKeysWithValues: demands.map { demand in
            let alone = plan([demand], previous: nil, admittedFraction: 1)
            return (demand.id, (Double(alone.gpus), alone.lowerBoundGPUs))
        })
        let ordered = demands.sorted { a, b in
            let (ca, cb) = (cost[a.id]!, cost[b.id]!)
            return ca.0 != cb.0 ? ca.0 < cb.0 : ca.1 != cb.1 ? ca.1 < cb.1 : a.id < b.id
        }
        var kept: [SessionDemand] = []
        var left: [SessionDemand] = []
        var result = plan([], previous: nil, admittedFraction: 1)
        for demand in ordered {
            let trial = sharedEvenly(kept + [demand], maxBackends: maxBackends)
            if trial.admittedFraction > 0 {
                kept.append(demand)
                result = trial
            } else {
                left.append(demand)
            }
        }
        for demand in left.sorted(by: { $0.id < $1.id }) {
            result.infeasible.append(InfeasibleSession(
                id: demand.id, model: demand.model, latencySLOMs: demand.latencySLOMs, gpuBudgetMs: demand.gpuBudgetMs,
                ratePerSecond: demand.ratePerSecond,
                reason: "the cluster's \(maxBackends) backend(s) cannot hold it beside the sessions planned, at any fraction of its rate (it cannot share a device with them); add backends",
                members: demand.members))
        }
        return result
    }

    func plan(_ demands: [SessionDemand], previous: Plan?, admittedFraction: Double) -> Plan {
        var packer = SquishyBinPacker(gpuMemoryMB: config.gpuMemoryMB)
        var infeasible: [InfeasibleSession] = []
        var planned: [PlannedSession] = []
        let usePrevious = admittedFraction == 1 && (previous?.admittedFraction ?? 0) == 1
        var previousSessions: [String: PlannedSession] = [:]
        if usePrevious, let previous {
            for session in previous.sessions { previousSessions[session.id] = session }
        }

        // Step 1, and step 6's decision of what to keep.
        for demand in demands.sorted(by: { $0.id < $1.id }) {
            guard let point = SquishyBinPacker.operatingPoint(
                curve: demand.curve, gpuBudgetMs: demand.gpuBudgetMs, gpuMemoryMB: config.gpuMemoryMB) else {
                infeasible.append(InfeasibleSession(
                    id: demand.id, model: demand.model, latencySLOMs: demand.latencySLOMs,
                    gpuBudgetMs: demand.gpuBudgetMs, ratePerSecond: demand.ratePerSecond,
                    reason: infeasibilityReason(demand), members: demand.members))
                continue
            }
            var demandRate = demand.ratePerSecond
            var rate = demandRate * (1 + config.rateHeadroom) * admittedFraction
            var kept = false
            if let old = previousSessions[demand.id], old.gpuBudgetMs == demand.gpuBudgetMs, old.saturated == point,
               old.demandRatePerSecond > 0, config.stabilityBand.contains(demand.ratePerSecond / old.demandRatePerSecond) {
                kept = true
                demandRate = old.demandRatePerSecond
                rate = old.ratePerSecond
            }
            packer.sessions.append(.init(id: demand.id, curve: demand.curve, gpuBudgetMs: demand.gpuBudgetMs,
                                         point: point, ratePerSecond: rate, kept: kept))
            planned.append(PlannedSession(
                id: demand.id, curve: demand.curve, latencySLOMs: demand.latencySLOMs, gpuBudgetMs: demand.gpuBudgetMs,
                demandRatePerSecond: demandRate, ratePerSecond: rate, saturated: point,
                prefixGroup: demand.prefixGroup, members: demand.members))
        }
        var indexByID: [String: Int] = [:]
        for (index, session) in packer.sessions.enumerated() { indexByID[session.id] = index }

        // Kept placements, and where everything else ran last epoch (to reuse those backends).
        var previousSaturatedIDs: [Int: [Int]] = [:]
        var previousResidualID: [Int: Int] = [:]
        if usePrevious, let previous {
            for backend in previous.backends {
                var members: [SquishyBinPacker.Member] = []
                for allocation in backend.allocations {
                    guard let index = indexByID[allocation.sessionID] else { continue }
                    if packer.sessions[index].kept {
                        members.append(.init(session: index, ratePerSecond: allocation.ratePerSecond, batch: allocation.batch))
                    } else if backend.isSaturated {
                        previousSaturatedIDs[index, default: []].append(backend.id)
                    } else {
                        previousResidualID[index] = backend.id
                    }
                }
                guard !members.isEmpty else { continue }
                packer.backends.append(.init(
                    id: backend.id, dutyCycleMs: backend.dutyCycleMs, members: members,
                    busyMs: members.reduce(0) { $0 + packer.sessions[$1.session].curve.latencyMs[$1.batch] },
                    memoryMB: members.reduce(0) { $0 + packer.sessions[$1.session].curve.memoryMB[$1.batch] },
                    lowerBoundShare: members.reduce(0) { $0 + $1.ratePerSecond / packer.sessions[$1.session].point.throughputPerSecond },
                    saturated: backend.isSaturated, hasKeptMember: true))
            }
        }

        // Steps 2 and 3.
        var residuals: [SquishyBinPacker.Residual] = []
        for index in packer.sessions.indices where !packer.sessions[index].kept && packer.sessions[index].ratePerSecond > 0 {
            let session = packer.sessions[index]
            let split = SaturatedSplit(ratePerSecond: session.ratePerSecond, peakPerSecond: session.point.throughputPerSecond)
            let residual = split.residualPerSecond
            var reusable = previousSaturatedIDs[index, default: []]
            for carried in split.wholeBackendRates {
                packer.addSaturatedBackend(session: index, ratePerSecond: carried,
                                           id: reusable.isEmpty ? nil : reusable.removeFirst())
            }
            guard residual > 0 else { continue }
            if let (batch, duty) = packer.residualPoint(session: index, ratePerSecond: residual) {
                residuals.append(.init(session: index, ratePerSecond: residual, batch: batch, dutyCycleMs: duty,
                                       occupancy: session.curve.latencyMs[batch] / duty))
            } else {
                packer.addSaturatedBackend(session: index, ratePerSecond: residual,
                                           id: reusable.isEmpty ? nil : reusable.removeFirst())
            }
        }

        // Step 4: largest occupancy first, best fit, the session's previous backend when it still fits.
        residuals.sort { ($0.occupancy, packer.sessions[$1.session].id) > ($1.occupancy, packer.sessions[$0.session].id) }
        var backendIndexByID: [Int: Int] = [:]
        for (index, backend) in packer.backends.enumerated() { if let id = backend.id { backendIndexByID[id] = index } }
        for residual in residuals {
            let preferred = previousResidualID[residual.session].flatMap { backendIndexByID[$0] }
            if let target = packer.bestFit(for: residual, preferred: preferred) {
                packer.merge(residual, into: target)
            } else {
                packer.addResidualBackend(residual)
            }
        }

        // Step 5.
        if config.consolidate { packer.consolidate() }

        // Ids: kept and reused ids stay; a new backend takes its session's old id if free, else the smallest free id.
        var used = Set(packer.backends.compactMap { $0.removed ? nil : $0.id })
        var nextFree = 0
        func smallestFree() -> Int {
            while used.contains(nextFree) { nextFree += 1 }
            return nextFree
        }
        for index in packer.backends.indices where packer.backends[index].id == nil && !packer.backends[index].removed {
            let first = packer.backends[index].members[0].session
            let old = previousResidualID[first] ?? previousSaturatedIDs[first]?.first
            let id = old.flatMap { used.contains($0) ? nil : $0 } ?? smallestFree()
            packer.backends[index].id = id
            used.insert(id)
        }

        let backends = packer.backends.filter { !$0.removed }.map { backend in
            PlannedBackend(
                id: backend.id!, dutyCycleMs: backend.dutyCycleMs,
                allocations: backend.members.map { member in
                    let session = packer.sessions[member.session]
                    return Allocation(sessionID: session.id, batch: member.batch, ratePerSecond: member.ratePerSecond,
                                      latencyMs: session.curve.latencyMs[member.batch],
                                      memoryMB: session.curve.memoryMB[member.batch])
                },
                isSaturated: backend.saturated)
        }.sorted { $0.id < $1.id }
        return Plan(sessions: planned, backends: backends, infeasible: infeasible,
                    gpuMemoryMB: config.gpuMemoryMB, admittedFraction: admittedFraction)
    }

    /// Says which limit an infeasible session breaks, with the numbers.
    func infeasibilityReason(_ demand: SessionDemand) -> String {
        let batchOneMs = demand.curve.latencyMs[1]
        if demand.gpuBudgetMs <= 0 {
            return "budget \(format(demand.latencySLOMs)) ms leaves no GPU time after network and pre/post-processing (\(format(demand.latencySLOMs - demand.gpuBudgetMs)) ms)"
        }
        if 2 * batchOneMs > demand.gpuBudgetMs {
            return "batch-1 latency \(format(batchOneMs)) ms needs a GPU budget of at least 2 x \(format(batchOneMs)) = \(format(2 * batchOneMs)) ms; the session has \(format(demand.gpuBudgetMs)) ms"
        }
        return "batch 1 needs \(format(demand.curve.memoryMB[1])) MB; a device has \(format(config.gpuMemoryMB)) MB"
    }
}

/// Short decimal rendering for messages and ids (the core has no Foundation formatter).
public func format(_ value: Double, decimals: Int = 3) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if text.contains("e") { return text }
    if text.hasSuffix(".0") { text.removeLast(2) }
    return text
}
