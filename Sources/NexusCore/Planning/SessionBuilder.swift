/// Turns applications and their stage rates into the sessions the planner places: splits each
/// application's SLO over its stages (DESIGN.md §3.3), then merges stages that run the same model under
/// the same budget into one session, and the stages of a prefix group into one session whose rate is the
/// **sum** of its members' rates (§3.4; the original averaged them).
public struct SessionBuilder: Sendable {
    public enum SplitMode: Sendable, Equatable {
        /// The dynamic programme of §3.3 on a grid of `steps`.
        case optimal(steps: Int)
        /// SLO / number of stages on the longest path (the baselines).
        case even
    }

    public var curves: ModelCurves
    /// Network plus pre/post-processing per model call.
    public var overheadMs: Double
    public var gpuMemoryMB: Double
    public var splitMode: SplitMode
    public var prefixBatching: Bool
    /// Multiplies every application's SLO (to try other SLOs without editing a workload).
    public var sloScale: Double
    /// An application keeps last epoch's budgets unless the new split needs this fraction fewer GPUs:
    /// budgets name sessions, so a split that flips with measurement noise would reload models for nothing.
    public var splitHysteresis: Double

    public init(curves: ModelCurves, overheadMs: Double, gpuMemoryMB: Double = PlannerConfig().gpuMemoryMB,
                splitMode: SplitMode = .optimal(steps: 100), prefixBatching: Bool = true, sloScale: Double = 1,
                splitHysteresis: Double = 0.02) {
        self.curves = curves
        self.overheadMs = overheadMs
        self.gpuMemoryMB = gpuMemoryMB
        self.splitMode = splitMode
        self.prefixBatching = prefixBatching
        self.sloScale = sloScale
        self.splitHysteresis = splitHysteresis
    }

    /// `stageRates[a][s]`: calls per second of stage `s` of application `a` (measured, or from a workload).
    /// `previous`: last epoch's sessions, whose budgets are kept where the new split is not clearly better.
    public func build(applications: [ApplicationSpec], stageRates: [[Double]], previous: SessionSet? = nil) throws -> SessionSet {
        precondition(stageRates.count == applications.count, "one rate list per application")
        var budgets: [[Double]] = []
        var unsplittable: [String] = []
        for (a, app) in applications.enumerated() {
            let slo = app.latencySLOMs * sloScale
            let parents = app.parentIndices
            switch splitMode {
            case .even:
                budgets.append(LatencySplit.evenBudgetsMs(parents: parents, latencySLOMs: slo))
            case let .optimal(steps):
                let stages = try app.stages.enumerated().map { s, stage in
                    LatencySplit.Stage(parent: parents[s], curve: try curves.curve(for: stage.model),
                                       ratePerSecond: stageRates[a][s])
                }
                if let split = LatencySplit.budgetsMs(stages: stages, latencySLOMs: slo, overheadMs: overheadMs,
                                                      gpuMemoryMB: gpuMemoryMB, steps: steps) {
                    // Last epoch's budgets stay unless the new split is clearly cheaper.
                    if let old = previous?.stageBudgetsMs[safe: a], old != split.budgetsMs,
                       LatencySplit.costGPUs(stages: stages, budgetsMs: old, latencySLOMs: slo, overheadMs: overheadMs,
                                             gpuMemoryMB: gpuMemoryMB) <= split.costGPUs * (1 + splitHysteresis) {
                        budgets.append(old)
                    } else {
                        budgets.append(split.budgetsMs)
                    }
                } else {
                    // No split lets every stage run: fall back to even so the planner names the culprits.
                    unsplittable.append(app.name)
                    budgets.append(LatencySplit.evenBudgetsMs(parents: parents, latencySLOMs: slo))
                }
            }
        }

        struct Pending {
            var curve: LatencyCurve
            var budgetMs: Double
            var ratePerSecond: Double
            var prefixGroup: String?
            var members: [String]
        }
        // Stages of one model under one budget share a session; a prefix group is one session whatever its
        // members' budgets, planned for the tightest of them.
        var pending: [String: Pending] = [:]
        var stageKeys: [[String]] = []
        for (a, app) in applications.enumerated() {
            var keys: [String] = []
            for (s, stage) in app.stages.enumerated() {
                let budget = budgets[a][s]
                let group = prefixBatching ? stage.prefixGroup : nil
                let key: String
                if let group {
                    key = "prefix:\(group)"
                } else if let head = stage.head {
                    key = "\(stage.model)/\(head)@\(format(budget))ms"
                } else {
                    key = "\(stage.model)@\(format(budget))ms"
                }
                keys.append(key)
                let member = "\(app.name)/\(stage.name)"
                if var existing = pending[key] {
                    existing.ratePerSecond += stageRates[a][s]
                    existing.budgetMs = min(existing.budgetMs, budget)
                    existing.members.append(member)
                    pending[key] = existing
                } else {
                    pending[key] = Pending(curve: try curves.curve(for: stage.model), budgetMs: budget,
                                           ratePerSecond: stageRates[a][s], prefixGroup: group, members: [member])
                }
            }
            stageKeys.append(keys)
        }
        var ids: [String: String] = [:]
        for (key, session) in pending {
            ids[key] = session.prefixGroup == nil ? key : "\(key)@\(format(session.budgetMs))ms"
        }
        let stageSessionIDs = stageKeys.map { keys in keys.map { ids[$0]! } }
        let demands = pending.keys.map { (ids[$0]!, pending[$0]!) }.sorted { $0.0 < $1.0 }.map { id, session in
            SessionDemand(id: id, curve: session.curve, latencySLOMs: session.budgetMs,
                                 gpuBudgetMs: session.budgetMs - overheadMs, ratePerSecond: session.ratePerSecond,
                                 prefixGroup: session.prefixGroup, members: session.members)
        }
        return SessionSet(demands: demands, stageSessionIDs: stageSessionIDs, stageBudgetsMs: budgets,
                          unsplittable: unsplittable)
    }
}

/// Sessions built from applications, and which session serves each stage.
public struct SessionSet: Sendable {
    /// Sorted by id.
    public var demands: [SessionDemand]
    /// Per application, per stage: the id of the session that serves it.
    public var stageSessionIDs: [[String]]
    /// Per application, per stage: the budget (ms) the split gave it.
    public var stageBudgetsMs: [[Double]]
    /// Applications no split could make feasible (they got the even split; the plan lists what is infeasible).
    public var unsplittable: [String]
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
