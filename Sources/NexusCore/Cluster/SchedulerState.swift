/// The scheduler's whole state as a value (DESIGN.md §2, Clockwork's "the controller decides"): nodes and
/// their beacons, per-stage EWMA rates from the frontends' reports, the current plan, and what it means
/// for each process. No clock and no I/O: the server feeds it events with the time, then pushes
/// `assignment` when a call says it changed. Tests and the simulator drive the same code.
public struct SchedulerState: Sendable {
    public let applications: [ServedApplication]
    public let epochPlanner: EpochPlanner
    public let config: SchedulerConfig

    public private(set) var nodes: [UInt64: ClusterNode] = [:]
    public private(set) var current: EpochPlanner.Result?
    public private(set) var assignment = ClusterAssignment()
    public private(set) var lastPlanNs: Int64 = 0
    public private(set) var lastPlanReason = ""
    public private(set) var planCount = 0
    /// Plan backend id -> the node running it; kept across epochs so placements stay put.
    public private(set) var backendNodes: [Int: UInt64] = [:]

    var nextNodeID: UInt64 = 1
    var stageRates: [[EWMARateEstimator]]
    var stageCounts: [[Int]]
    var pendingReason: String?
    /// "app/stage" -> (application index, stage index).
    let stageIndex: [String: (Int, Int)]

    public init(applications: [ServedApplication], epochPlanner: EpochPlanner, config: SchedulerConfig = SchedulerConfig()) {
        self.applications = applications
        self.epochPlanner = epochPlanner
        self.config = config
        stageRates = applications.map { app in
            app.spec.stages.map { _ in EWMARateEstimator(timeConstantNs: config.rateTimeConstantNs, fastRise: true) }
        }
        stageCounts = applications.map { [Int](repeating: 0, count: $0.spec.stages.count) }
        var index: [String: (Int, Int)] = [:]
        for (a, app) in applications.enumerated() {
            for (s, stage) in app.spec.stages.enumerated() { index["\(app.name)/\(stage.name)"] = (a, s) }
        }
        stageIndex = index
    }

    // MARK: Events

    /// A new node; a backend adds capacity, so the next `update` plans again.
    public mutating func register(kind: ClusterNode.Kind, address: String, device: String, runtime: String, nowNs: Int64) -> UInt64 {
        let id = nextNodeID
        nextNodeID += 1
        nodes[id] = ClusterNode(id: id, kind: kind, address: address, device: device, runtime: runtime, lastSeenNs: nowNs)
        if kind == .backend { pendingReason = "backend \(id) joined (\(device), \(address))" }
        return id
    }

    /// False when the node is unknown (declared dead, or the scheduler restarted): it must register again.
    public mutating func heartbeat(nodeID: UInt64, utilization: Double, nowNs: Int64) -> Bool {
        guard nodes[nodeID] != nil else { return false }
        nodes[nodeID]!.lastSeenNs = nowNs
        nodes[nodeID]!.utilization = utilization
        return true
    }

    @discardableResult
    public mutating func unregister(nodeID: UInt64) -> Bool {
        guard let node = nodes.removeValue(forKey: nodeID) else { return false }
        if node.kind == .backend { pendingReason = "backend \(nodeID) left" }
        return true
    }

    /// Requests per application stage since the frontend's last report. Unknown stages are ignored and
    /// returned, so the caller can log them.
    @discardableResult
    public mutating func report(counts: [(stage: String, requests: Int)]) -> [String] {
        var unknown: [String] = []
        for (stage, requests) in counts {
            guard let (a, s) = stageIndex[stage] else { unknown.append(stage); continue }
            stageCounts[a][s] += max(0, requests)
        }
        return unknown
    }

    /// Once per beacon: fold the reported counts into the rates, declare silent nodes dead, and plan when a
    /// node came or went or the epoch trigger fires. Returns true when `assignment` changed.
    public mutating func beacon(nowNs: Int64) throws -> Bool {
        for a in stageCounts.indices {
            for s in stageCounts[a].indices {
                stageRates[a][s].record(count: stageCounts[a][s], intervalNs: config.beaconNs)
                stageCounts[a][s] = 0
            }
        }
        let silenceNs = config.beaconNs * Int64(config.deadAfterBeacons)
        for node in nodes.values.sorted(by: { $0.id < $1.id }) where nowNs - node.lastSeenNs > silenceNs {
            nodes[node.id] = nil
            if node.kind == .backend { pendingReason = "backend \(node.id) silent for \(config.deadAfterBeacons) beacons" }
        }
        if pendingReason == nil, let current {
            let rates = current.plan.sessions.map { session in
                (measuredPerSecond: measuredRate(session: session), plannedPerSecond: session.demandRatePerSecond)
            }
            if let reason = config.trigger.replanReason(nowNs: nowNs, lastPlanNs: lastPlanNs, rates: rates) {
                switch reason {
                case .epochElapsed: pendingReason = "epoch"
                case let .rateChanged(index): pendingReason = "rate of \(current.plan.sessions[index].id) left the band"
                }
            }
        }
        return try update(nowNs: nowNs)
    }

    /// Plans now if a node came or went since the last plan. Returns true when `assignment` changed.
    public mutating func update(nowNs: Int64) throws -> Bool {
        guard let reason = pendingReason else { return false }
        pendingReason = nil
        return try replan(nowNs: nowNs, reason: reason)
    }

    /// Plans unconditionally (an operator's request, or a test's).
    public mutating func replan(nowNs: Int64, reason: String) throws -> Bool {
        let live = liveBackends
        lastPlanNs = nowNs
        lastPlanReason = reason
        planCount += 1
        var result: EpochPlanner.Result?
        if !live.isEmpty {
            var previous = current
            let liveIDs = Set(live.map(\.id))
            if var kept = previous {
                // A backend that is gone takes its sessions' placements with it: they are planned afresh
                // (the planner keeps a session only together with the backends that ran it).
                let gone = kept.plan.backends.filter { backend in backendNodes[backend.id].map { !liveIDs.contains($0) } ?? true }
                let orphaned = Set(gone.flatMap { $0.allocations.map(\.sessionID) })
                kept.plan.backends.removeAll { backend in gone.contains { $0.id == backend.id } }
                kept.plan.sessions.removeAll { orphaned.contains($0.id) }
                previous = kept
            }
            result = try epochPlanner.plan(applications: applications.map(\.spec), stageRates: planningRates(),
                                           previous: previous, maxBackends: live.count)
        }
        current = result
        backendNodes = Self.mapBackends(result?.plan.backends.map(\.id) ?? [], previous: backendNodes, live: live)
        var next = makeAssignment(result, live: live)
        next.version = assignment.version
        guard next != assignment else { return false }
        next.version = assignment.version + 1
        assignment = next
        return true
    }

    // MARK: Derived

    /// Live backends in the order they take plan backends: real devices first, then by id.
    public var liveBackends: [ClusterNode] {
        nodes.values.filter { $0.kind == .backend }.sorted { ($0.isSimulated ? 1 : 0, $0.id) < ($1.isSimulated ? 1 : 0, $1.id) }
    }

    /// The rate each stage is planned for: its EWMA, at least `minimumRatePerSecond`.
    public func planningRates() -> [[Double]] {
        stageRates.map { $0.map { max($0.ratePerSecond ?? 0, config.minimumRatePerSecond) } }
    }

    func measuredRate(session: PlannedSession) -> Double {
        let rates = planningRates()
        return session.members.reduce(0) { sum, member in
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
                    latencyMs: Array(session.curve.latencyMs[1...min(allocation.batch, session.curve.maxBatch)])))
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
