/// What the state means for the processes: live backends in planning order, the rates plans are made for,
/// and the assignment (tables, routes, stage bindings) derived from a plan.
extension SchedulerState {
    /// Live backends in the order they take plan backends: real devices first, then by id.
    public var liveBackends: [ClusterNode] {
        nodes.values.filter { $0.kind == .backend }.sorted { ($0.isSimulated ? 1 : 0, $0.id) < ($1.isSimulated ? 1 : 0, $1.id) }
    }

    /// The rate each stage is planned for: its EWMA, at least `minimumRatePerSecond`.
    public func planningRates() -> [[Double]] {
        stageRates.map { $0.map { max($0.ratePerSecond ?? 0, config.minimumRatePerSecond) } }
    }

    func measuredRate(session: PlannedSession, planningRates rates: [[Double]]) -> Double {
        session.members.reduce(0) { sum, member in
            guard let (a, s) = stageIndex[member] else { return sum }
            return sum + rates[a][s]
        }
    }

    /// Plan backends keep the node they had; the others take free live nodes in `live` order.
    static func mapBackends(_ ids: [Int], previous: [Int: UInt64], live: [ClusterNode]) -> [Int: UInt64] {
        let liveIDs = Set(live.map(\.id))
        var map: [Int: UInt64] = [:]
        var used = Set<UInt64>()
        for id in ids {
            if let node = previous[id], liveIDs.contains(node), !used.contains(node) {
                map[id] = node
                used.insert(node)
            }
        }
        var free = live.map(\.id).filter { !used.contains($0) }[...]
        for id in ids.sorted() where map[id] == nil {
            guard let node = free.popFirst() else { break }
            map[id] = node
        }
        return map
    }

    func makeAssignment(_ result: EpochPlanner.Result?, live: [ClusterNode]) -> ClusterAssignment {
        var assignment = ClusterAssignment()
        for node in live { assignment.tables[node.id] = ModelTable(dutyCycleMs: 0, sessions: []) }
        guard let result else {
            assignment.stages = stageBindings(nil)
            return assignment
        }
        let sessions = Dictionary(uniqueKeysWithValues: result.plan.sessions.map { ($0.id, $0) })
        for backend in result.plan.backends {
            guard let nodeID = backendNodes[backend.id], let node = nodes[nodeID] else { continue }
            var entries: [ModelTable.Entry] = []
            for allocation in backend.allocations {
                guard let session = sessions[allocation.sessionID] else { continue }
                entries.append(ModelTable.Entry(
                    sessionID: session.id, models: models(of: session), maxBatch: allocation.batch,
                    // The whole curve, not only up to the planned batch: a backend that grows batches into its
                    // duty cycle's slack (`nexus-next`) needs the latency of larger ones.
                    latencyMs: Array(session.curve.latencyMs[1...session.curve.maxBatch])))
                assignment.routes[session.id, default: []].append(
                    RouteTarget(nodeID: nodeID, address: node.address, ratePerSecond: allocation.ratePerSecond))
            }
            assignment.tables[nodeID] = ModelTable(dutyCycleMs: backend.dutyCycleMs, sessions: entries)
        }
        assignment.stages = stageBindings(result)
        assignment.infeasible = result.plan.infeasible.map { "\($0.id): \($0.reason)" }
        return assignment
    }

    /// The distinct models of a session's member stages (several for a prefix group).
    func models(of session: PlannedSession) -> [String] {
        var models: [String] = []
        for member in session.members {
            guard let (a, s) = stageIndex[member] else { continue }
            let model = applications[a].spec.stages[s].model
            if !models.contains(model) { models.append(model) }
        }
        return models.sorted()
    }

    func stageBindings(_ result: EpochPlanner.Result?) -> [StageBinding] {
        var bindings: [StageBinding] = []
        for (a, app) in applications.enumerated() {
            for (s, stage) in app.spec.stages.enumerated() {
                bindings.append(StageBinding(application: app.name, stage: stage.name,
                                             sessionID: result?.sessions.stageSessionIDs[a][s] ?? "",
                                             budgetMs: result?.sessions.stageBudgetsMs[a][s] ?? 0))
            }
        }
        return bindings
    }

    /// Each stage's current planning rate, keyed "app/stage" (status and logs).
    public var stageRatesPerSecond: [String: Double] {
        var rates: [String: Double] = [:]
        let planned = planningRates()
        for (key, (a, s)) in stageIndex { rates[key] = planned[a][s] }
        return rates
    }
}

extension SchedulerState {
    /// Each session of the current plan with the rate it is planned for and the rate measured now (what the
    /// epoch trigger compares), for metrics.
    public func sessionRates() -> [(sessionID: String, measuredPerSecond: Double, plannedPerSecond: Double)] {
        guard let current else { return [] }
        let planning = planningRates()
        return current.plan.sessions.map { session in
            (session.id, measuredRate(session: session, planningRates: planning), session.demandRatePerSecond)
        }
    }
}
