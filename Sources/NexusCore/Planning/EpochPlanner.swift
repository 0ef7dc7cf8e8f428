/// One planning epoch end to end: split every application's SLO with the current stage rates, build
/// sessions, place them. What the scheduler and the simulator run every epoch, and what `nexus plan` prints.
public struct EpochPlanner: Sendable {
    public var builder: SessionBuilder
    public var planner: Planner

    public init(builder: SessionBuilder, planner: Planner) {
        self.builder = builder
        self.planner = planner
    }

    public struct Result: Sendable {
        public var sessions: SessionSet
        public var plan: Plan

        public init(sessions: SessionSet, plan: Plan) {
            self.sessions = sessions
            self.plan = plan
        }
    }

    /// `previous`: last epoch's result, so that budgets and placements stay put where nothing much changed.
    public func plan(applications: [ApplicationSpec], stageRates: [[Double]], previous: Result? = nil,
                     maxBackends: Int? = nil) throws -> Result {
        let sessions = try builder.build(applications: applications, stageRates: stageRates, previous: previous?.sessions)
        let plan = planner.plan(sessions.demands, previous: previous?.plan, maxBackends: maxBackends)
        return Result(sessions: sessions, plan: plan)
    }
}
