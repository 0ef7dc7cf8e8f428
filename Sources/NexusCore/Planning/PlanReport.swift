/// The plan as users read it (`nexus plan --json`, documented in the README). Field names are the JSON keys.
public struct PlanReport: Encodable, Sendable {
    public var workload: String
    /// The phase planned (its name, else its index); absent for a workload without phases.
    @NullEncoded public var phase: String?
    public var totalRatePerSecond: Double
    public var gpus: Int
    public var lowerBoundGPUs: Double
    public var utilization: Double
    public var admittedFraction: Double
    public var sessions: [Session]
    public var applications: [Application]
    public var backends: [Backend]
    public var infeasible: [Infeasible]

    public struct Session: Encodable, Sendable {
        public var id: String
        public var model: String
        /// The stage budget the session was planned for.
        public var latencySLOMs: Double
        /// What is left of it for queueing and GPU time after network and pre/post-processing.
        public var gpuBudgetMs: Double
        public var ratePerSecond: Double
        public var demandRatePerSecond: Double
        /// `B_i`, the saturated batch, and `T_i`.
        public var maxBatch: Int
        public var peakThroughputPerSecond: Double
        @NullEncoded public var prefixGroup: String?
        public var members: [String]
    }

    public struct Application: Encodable, Sendable {
        public var name: String
        public var latencySLOMs: Double
        public var ratePerSecond: Double
        public var stages: [Stage]
    }

    public struct Stage: Encodable, Sendable {
        public var name: String
        public var model: String
        /// null for a stage that takes the client's request.
        @NullEncoded public var parent: String?
        public var budgetMs: Double
        public var ratePerSecond: Double
        public var session: String
    }

    public struct Backend: Encodable, Sendable {
        public var id: Int
        public var dutyCycleMs: Double
        public var occupancy: Double
        public var memoryMB: Double
        public var saturated: Bool
        public var sessions: [BackendSession]
    }

    public struct BackendSession: Encodable, Sendable {
        public var session: String
        public var batch: Int
        public var ratePerSecond: Double
        /// Profile latency of `batch`.
        public var latencyMs: Double
    }

    public struct Infeasible: Encodable, Sendable {
        public var session: String
        public var model: String
        public var latencySLOMs: Double
        public var ratePerSecond: Double
        public var reason: String
        public var members: [String]
    }

    public init(workload: Workload, traffic: TrafficSnapshot, result: EpochPlanner.Result, sloScale: Double = 1) {
        let plan = result.plan
        self.workload = workload.name
        self.phase = traffic.phaseName ?? traffic.phaseIndex.map { "\($0)" }
        self.totalRatePerSecond = traffic.totalRatePerSecond
        self.gpus = plan.gpus
        self.lowerBoundGPUs = plan.lowerBoundGPUs
        self.utilization = plan.utilization
        self.admittedFraction = plan.admittedFraction
        self.sessions = plan.sessions.map { session in
            Session(id: session.id, model: session.model, latencySLOMs: session.latencySLOMs,
                    gpuBudgetMs: session.gpuBudgetMs, ratePerSecond: session.ratePerSecond,
                    demandRatePerSecond: session.demandRatePerSecond, maxBatch: session.saturated.batch,
                    peakThroughputPerSecond: session.saturated.throughputPerSecond,
                    prefixGroup: session.prefixGroup, members: session.members)
        }
        self.applications = workload.applications.enumerated().map { a, app in
            Application(
                name: app.name, latencySLOMs: app.latencySLOMs * sloScale, ratePerSecond: traffic.applicationRates[a],
                stages: app.stages.enumerated().map { s, stage in
                    Stage(name: stage.name, model: stage.model, parent: stage.parent,
                          budgetMs: result.sessions.stageBudgetsMs[a][s], ratePerSecond: traffic.stageRates[a][s],
                          session: result.sessions.stageSessionIDs[a][s])
                })
        }
        self.backends = plan.backends.map { backend in
            Backend(id: backend.id, dutyCycleMs: backend.dutyCycleMs, occupancy: backend.occupancy,
                    memoryMB: backend.memoryMB, saturated: backend.isSaturated,
                    sessions: backend.allocations.map {
                        BackendSession(session: $0.sessionID, batch: $0.batch, ratePerSecond: $0.ratePerSecond, latencyMs: $0.latencyMs)
                    })
        }
        self.infeasible = plan.infeasible.map {
            Infeasible(session: $0.id, model: $0.model, latencySLOMs: $0.latencySLOMs, ratePerSecond: $0.ratePerSecond,
                       reason: $0.reason, members: $0.members)
        }
    }
}
