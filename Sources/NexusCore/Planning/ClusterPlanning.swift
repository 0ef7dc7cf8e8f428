/// How the scheduler turns applications and measured stage rates into sessions placed on backends. The
/// scheduler state calls it every epoch, in the servers and in the simulator alike; Nexus plans with
/// squishy bin packing (`EpochPlanner`), the paper's baselines with the batch-oblivious allocator.
public protocol ClusterPlanning: Sendable {
    /// `previous`: last epoch's result, so that budgets and placements stay put where little changed.
    /// `maxBackends`: the cluster's size, nil for as many backends as the plan asks for.
    func plan(applications: [ApplicationSpec], stageRates: [[Double]], previous: EpochPlanner.Result?,
              maxBackends: Int?) throws -> EpochPlanner.Result
}

extension EpochPlanner: ClusterPlanning {}

/// The baselines' planning (DESIGN.md §5): sessions built by `builder` (an even SLO split, no prefix
/// batching), GPU shares from the batch-oblivious allocator, no stability between epochs.
public struct BatchObliviousPlanning: ClusterPlanning {
    public var builder: SessionBuilder
    public var allocator: BatchObliviousAllocator

    public init(builder: SessionBuilder, allocator: BatchObliviousAllocator) {
        self.builder = builder
        self.allocator = allocator
    }

    public func plan(applications: [ApplicationSpec], stageRates: [[Double]], previous: EpochPlanner.Result?,
                     maxBackends: Int?) throws -> EpochPlanner.Result {
        let sessions = try builder.build(applications: applications, stageRates: stageRates)
        return EpochPlanner.Result(sessions: sessions, plan: allocator.plan(sessions.demands, maxBackends: maxBackends))
    }
}
