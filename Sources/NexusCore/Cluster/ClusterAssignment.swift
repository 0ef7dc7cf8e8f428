/// What one plan means for the processes: a model table per backend node and, for the frontends, where
/// each session runs and which session and budget serve each application stage. Values the scheduler
/// pushes whenever they change.
public struct ClusterAssignment: Sendable, Equatable {
    public var version: UInt64
    /// Keyed by backend node id; a live backend with nothing to run gets an empty table.
    public var tables: [UInt64: ModelTable]
    /// Keyed by session id.
    public var routes: [String: [RouteTarget]]
    public var stages: [StageBinding]
    /// Sessions no backend can run within their budget, with the reason.
    public var infeasible: [String]

    public init(version: UInt64 = 0, tables: [UInt64: ModelTable] = [:], routes: [String: [RouteTarget]] = [:],
                stages: [StageBinding] = [], infeasible: [String] = []) {
        self.version = version
        self.tables = tables
        self.routes = routes
        self.stages = stages
        self.infeasible = infeasible
    }
}

public struct RouteTarget: Sendable, Equatable {
    public var nodeID: UInt64
    public var address: String
    /// The plan's rate for this session on this backend: the router's weight.
    public var ratePerSecond: Double

    public init(nodeID: UInt64, address: String, ratePerSecond: Double) {
        self.nodeID = nodeID
        self.address = address
        self.ratePerSecond = ratePerSecond
    }
}

public struct StageBinding: Sendable, Equatable {
    public var application: String
    public var stage: String
    public var sessionID: String
    /// The stage's budget from the latency split (DESIGN.md §3.3).
    public var budgetMs: Double

    public init(application: String, stage: String, sessionID: String, budgetMs: Double) {
        self.application = application
        self.stage = stage
        self.sessionID = sessionID
        self.budgetMs = budgetMs
    }
}
