/// The outcome of one planning epoch: which backend runs which session at which batch and duty cycle.
/// A value: the scheduler ships it as model tables and routes; the simulator runs it; tests check it.
public struct Plan: Sendable {
    public var sessions: [PlannedSession]
    /// Sorted by id. Ids are stable across epochs and new backends take the smallest free id, so with
    /// at most G backends every id is below G and maps onto a device slot.
    public var backends: [PlannedBackend]
    public var infeasible: [InfeasibleSession]
    public var gpuMemoryMB: Double
    /// Capacity planned over the (headroom-inflated) demand: 1, less when a cluster cap forced less, and
    /// more for a batch-oblivious plan that fills a fixed cluster.
    public var admittedFraction: Double = 1

    public init(sessions: [PlannedSession], backends: [PlannedBackend], infeasible: [InfeasibleSession],
                gpuMemoryMB: Double, admittedFraction: Double = 1) {
        self.sessions = sessions
        self.backends = backends
        self.infeasible = infeasible
        self.gpuMemoryMB = gpuMemoryMB
        self.admittedFraction = admittedFraction
    }

    public var gpus: Int { backends.count }

    /// `LB = sum_i r_i / T_i` over the planned rates: no plan under this execution model uses fewer GPUs.
    public var lowerBoundGPUs: Double {
        sessions.reduce(0) { $0 + $1.ratePerSecond / $1.saturated.throughputPerSecond }
    }

    /// The lower bound for the measured demand alone (no headroom, no cluster cap): the GPUs the useful
    /// work needs. The simulator's utilisation divides this by the GPUs in the plan.
    public var demandLowerBoundGPUs: Double {
        sessions.reduce(0) { $0 + $1.demandRatePerSecond / $1.saturated.throughputPerSecond }
    }

    /// `LB / backendsUsed`, the planner's figure of merit (1 when nothing is placed).
    public var utilization: Double { backends.isEmpty ? 1 : lowerBoundGPUs / Double(backends.count) }

    public func session(id: String) -> PlannedSession? { sessions.first { $0.id == id } }

    /// Backends serving `sessionID`, with the rate each was planned to carry: the router's weights.
    public func routes(for sessionID: String) -> [(backend: Int, ratePerSecond: Double)] {
        var routes: [(Int, Double)] = []
        for backend in backends {
            for allocation in backend.allocations where allocation.sessionID == sessionID {
                routes.append((backend.id, allocation.ratePerSecond))
            }
        }
        return routes
    }
}

public struct PlannedSession: Sendable {
    public var id: String
    public var curve: LatencyCurve
    public var latencySLOMs: Double
    public var gpuBudgetMs: Double
    /// The measured rate this placement was made for; the stability band and the epoch trigger compare with it.
    public var demandRatePerSecond: Double
    /// The rate the backends were sized for: demand x (1 + headroom) x admitted fraction.
    public var ratePerSecond: Double
    public var saturated: SaturatedPoint
    public var prefixGroup: String?
    public var members: [String]

    public var model: String { curve.model }
}

public struct InfeasibleSession: Sendable, Equatable {
    public var id: String
    public var model: String
    public var latencySLOMs: Double
    public var gpuBudgetMs: Double
    public var ratePerSecond: Double
    public var reason: String
    public var members: [String]
}

public struct PlannedBackend: Sendable {
    public var id: Int
    public var dutyCycleMs: Double
    public var allocations: [Allocation]
    /// Runs one session alone at its saturated batch (step 2).
    public var isSaturated: Bool

    public var occupancy: Double { allocations.reduce(0) { $0 + $1.latencyMs } / dutyCycleMs }
    public var memoryMB: Double { allocations.reduce(0) { $0 + $1.memoryMB } }
}

/// One session's share of one backend.
public struct Allocation: Sendable, Equatable {
    public var sessionID: String
    public var batch: Int
    /// Requests per second this backend is planned to take for the session.
    public var ratePerSecond: Double
    /// Profile latency of `batch` (padded envelope).
    public var latencyMs: Double
    public var memoryMB: Double
}
