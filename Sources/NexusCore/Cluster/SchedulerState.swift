/// The scheduler's whole state as a value (DESIGN.md §2, Clockwork's "the controller decides"): nodes and
/// their beacons, per-stage EWMA rates from the frontends' reports, the current plan, and what it means
/// for each process. No clock and no I/O: a driver feeds it events with the time and applies `assignment`
/// when a call says it changed. Two drivers run it: the scheduler server (gRPC events, a real-time beacon
/// timer) and the simulator (simulated nodes and frontends, virtual time).
public struct SchedulerState: Sendable {
    public let applications: [ServedApplication]
    public let planner: any ClusterPlanning
    public let config: SchedulerConfig

    public private(set) var nodes: [UInt64: ClusterNode] = [:]
    public private(set) var current: EpochPlanner.Result?
    public private(set) var assignment = ClusterAssignment()
    public private(set) var lastPlanNs: Int64 = 0
    public private(set) var lastPlanCause: PlanCause?
    public private(set) var planCount = 0
    /// Plan backend id -> the node running it; kept across epochs so placements stay put.
    public private(set) var backendNodes: [Int: UInt64] = [:]
    /// Plan backends with no node to run them (only with `BackendLimit.unbounded`).
    public private(set) var backendsShort = 0

    var nextNodeID: UInt64 = 1
    var stageRates: [[EWMARateEstimator]]
    var stageCounts: [[Int]]
    var pendingCause: PlanCause?
    var lastBeaconNs: Int64 = 0
    /// "app/stage" -> (application index, stage index).
    let stageIndex: [String: (Int, Int)]

    /// `declaredStageRates[a][s]`: calls per second each stage is expected to see (a workload's rates, or the
    /// last known ones); without it, an application's own `expectedRatePerSecond`. The first plan is sized for
    /// them instead of for `minimumRatePerSecond`, so a cluster that starts under load is not planned for one
    /// request a second.
    public init(applications: [ServedApplication], planner: any ClusterPlanning, config: SchedulerConfig = SchedulerConfig(),
                declaredStageRates: [[Double]]? = nil) {
        if let declaredStageRates {
            precondition(declaredStageRates.map(\.count) == applications.map(\.spec.stages.count),
                         "declaredStageRates must have one rate per stage of each application")
        }
        self.applications = applications
        self.planner = planner
        self.config = config
        stageRates = applications.enumerated().map { a, app in
            let declared = declaredStageRates?[a] ?? app.expectedStageRates
            return app.spec.stages.indices.map { s in
                EWMARateEstimator(timeConstantNs: config.rateTimeConstantNs, fastRise: config.fastRise,
                                  initialRatePerSecond: declared?[s])
            }
        }
        stageCounts = applications.map { [Int](repeating: 0, count: $0.spec.stages.count) }
        var index: [String: (Int, Int)] = [:]
        for (a, app) in applications.enumerated() {
            for (s, stage) in app.spec.stages.enumerated() { index["\(app.name)/\(stage.name)"] = (a, s) }
        }
        stageIndex = index
    }

    /// The last plan's cause as logs print it ("" before the first plan).
    public var lastPlanReason: String { lastPlanCause?.description ?? "" }

    // MARK: Events

    /// A new node; a backend adds capacity, so the next `update` plans again.
    public mutating func register(kind: ClusterNode.Kind, address: String, device: String, runtime: String, nowNs: Int64) -> UInt64 {
        let id = nextNodeID
        nextNodeID += 1
        nodes[id] = ClusterNode(id: id, kind: kind, address: address, device: device, runtime: runtime, lastSeenNs: nowNs)
        if kind == .backend { pendingCause = .backendJoined(nodeID: id, device: device, address: address) }
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
        if node.kind == .backend { pendingCause = .backendLeft(nodeID: nodeID) }
        return true
    }

    /// A backend nobody can reach (a frontend's call failed, and the scheduler's probe failed too): it leaves
    /// the cluster now, and the next `update` plans without it. False when the node is unknown.
    @discardableResult
    public mutating func declareUnreachable(nodeID: UInt64, reason: String) -> Bool {
        guard let node = nodes.removeValue(forKey: nodeID) else { return false }
        if node.kind == .backend { pendingCause = .backendUnreachable(nodeID: nodeID, reason: reason) }
        return true
    }

    /// Nodes the next `beacon(nowNs:)` would declare dead for silence. A driver that can probe them does so
    /// first and beats for those that answer: a node too busy to beat on time is not dead.
    public func overdueNodes(nowNs: Int64) -> [ClusterNode] {
        let silenceNs = config.beaconNs * Int64(config.deadAfterBeacons)
        return nodes.values.filter { nowNs - $0.lastSeenNs > silenceNs }.sorted { $0.id < $1.id }
    }

    /// Requests per application stage ("app/stage") since the frontend's last report. Unknown stages are
    /// ignored and returned, so the caller can log them.
    @discardableResult
    public mutating func report(counts: [(stage: String, requests: Int)]) -> [String] {
        var unknown: [String] = []
        for (stage, requests) in counts {
            guard let (a, s) = stageIndex[stage] else { unknown.append(stage); continue }
            report(application: a, stage: s, requests: requests)
        }
        return unknown
    }

    /// Requests of stage `stage` of application `application` (indices into `applications`).
    public mutating func report(application: Int, stage: Int, requests: Int) {
        stageCounts[application][stage] += max(0, requests)
    }

    /// Once per beacon: fold the reported counts into the rates, declare silent nodes dead, and plan when a
    /// node came or went or the epoch trigger fires. Returns true when `assignment` changed.
    public mutating func beacon(nowNs: Int64) throws -> Bool {
        lastBeaconNs = nowNs
        for a in stageCounts.indices {
            for s in stageCounts[a].indices {
                stageRates[a][s].record(count: stageCounts[a][s], intervalNs: config.beaconNs)
                stageCounts[a][s] = 0
            }
        }
        for node in overdueNodes(nowNs: nowNs) {
            nodes[node.id] = nil
            if node.kind == .backend { pendingCause = .backendSilent(nodeID: node.id, beacons: config.deadAfterBeacons) }
        }
        if pendingCause == nil, let current {
            let planning = planningRates()
            let rates = current.plan.sessions.map { session in
                (measuredPerSecond: measuredRate(session: session, planningRates: planning),
                 plannedPerSecond: session.demandRatePerSecond)
            }
            switch config.trigger.replanReason(nowNs: nowNs, lastPlanNs: lastPlanNs, rates: rates) {
            case .epochElapsed: pendingCause = .epoch
            case let .rateChanged(index): pendingCause = .rateChanged(sessionID: current.plan.sessions[index].id)
            case nil: break
            }
        }
        return try update(nowNs: nowNs)
    }

    /// Between beacons, after a report: a session whose calls since the last beacon already run at
    /// `SuddenRise.factor` times the rate it was planned for (and at least `SuddenRise.minimumCalls` calls) is
    /// planned again at once, its stages' rates raised to what they now run at. A cold start from the minimum
    /// rate, or a burst, is capacity already missing: waiting for the next beacon and the rise interval costs
    /// seconds of drops. Returns true when `assignment` changed.
    public mutating func checkSuddenRise(nowNs: Int64) throws -> Bool {
        guard pendingCause == nil, let current else { return false }
        let elapsedNs = nowNs - lastBeaconNs
        guard elapsedNs >= SuddenRise.minimumWindowNs, nowNs - lastPlanNs >= SuddenRise.minimumWindowNs else { return false }
        let seconds = Double(elapsedNs) / 1e9
        for session in current.plan.sessions {
            let members = session.members.compactMap { stageIndex[$0] }
            let calls = members.reduce(0) { $0 + stageCounts[$1.0][$1.1] }
            guard calls >= SuddenRise.minimumCalls,
                  Double(calls) / seconds > SuddenRise.factor * session.demandRatePerSecond else { continue }
            for (a, s) in members { stageRates[a][s].raise(toAtLeast: Double(stageCounts[a][s]) / seconds) }
            pendingCause = .rateChanged(sessionID: session.id)
        }
        return try update(nowNs: nowNs)
    }

    /// What `checkSuddenRise` calls sudden.
    public enum SuddenRise {
        public static let factor = 2.0
        public static let minimumCalls = 20
        /// The window of calls it judges, and the least time between two plans it makes.
        public static let minimumWindowNs: Int64 = 250_000_000
    }

    /// Plans now if a node came or went since the last plan. Returns true when `assignment` changed.
    public mutating func update(nowNs: Int64) throws -> Bool {
        guard let cause = pendingCause else { return false }
        return try replan(nowNs: nowNs, cause: cause)
    }

    /// Plans unconditionally (an operator's request, or a test's).
    public mutating func replan(nowNs: Int64, reason: String) throws -> Bool {
        try replan(nowNs: nowNs, cause: .requested(reason))
    }

    /// Plans unconditionally. Returns true when `assignment` changed.
    public mutating func replan(nowNs: Int64, cause: PlanCause) throws -> Bool {
        pendingCause = nil
        let live = liveBackends
        lastPlanNs = nowNs
        lastPlanCause = cause
        planCount += 1
        var result: EpochPlanner.Result?
        if !live.isEmpty || config.backendLimit == .unbounded {
            result = try planner.plan(applications: applications.map(\.spec), stageRates: planningRates(),
                                      previous: keptPrevious(live: live),
                                      maxBackends: config.backendLimit == .unbounded ? nil : live.count)
        }
        current = result
        backendNodes = Self.mapBackends(result?.plan.backends.map(\.id) ?? [], previous: backendNodes, live: live)
        backendsShort = (result?.plan.backends.count ?? 0) - backendNodes.count
        var next = makeAssignment(result, live: live)
        next.version = assignment.version
        guard next != assignment else { return false }
        next.version = assignment.version + 1
        assignment = next
        return true
    }

    /// Last epoch's result without the backends that are gone: a backend that is gone takes its sessions'
    /// placements with it, and they are planned afresh (the planner keeps a session only together with the
    /// backends that ran it). A plan backend that never had a node is gone too, unless the cluster is unbounded.
    func keptPrevious(live: [ClusterNode]) -> EpochPlanner.Result? {
        guard var kept = current else { return nil }
        let liveIDs = Set(live.map(\.id))
        let gone = kept.plan.backends.filter { backend in
            backendNodes[backend.id].map { !liveIDs.contains($0) } ?? (config.backendLimit == .liveBackends)
        }
        guard !gone.isEmpty else { return kept }
        let goneIDs = Set(gone.map(\.id))
        let orphaned = Set(gone.flatMap { $0.allocations.map(\.sessionID) })
        kept.plan.backends.removeAll { goneIDs.contains($0.id) }
        kept.plan.sessions.removeAll { orphaned.contains($0.id) }
        return kept
    }
}
