import NexusCore

/// What runs the cluster in a simulation: Nexus, one of its ablations, or a baseline exactly as
/// DESIGN.md §5 describes it.
public enum SimulationPolicy: String, CaseIterable, Sendable, Codable {
    case nexus
    case nexusLazyDrop = "nexus-lazy-drop"
    case nexusNoPrefix = "nexus-no-prefix"
    case nexusEvenSplit = "nexus-even-split"
    case tfLike = "tf-like"
    case clipperLike = "clipper-like"
    case tritonLike = "triton-like"

    enum Executor: Equatable {
        /// One batch at a time, sessions visited round-robin (`RoundRobinTurns`), dropping by `drop`.
        case turns(drop: DropPolicy)
        /// One container per model, concurrent on the GPU (processor sharing), AIMD batch size, lazy drop.
        case clipper
        /// One dynamic batcher per model, concurrent on the GPU (processor sharing), queue timeout = deadline.
        case triton
    }

    var isBaseline: Bool { [.tfLike, .clipperLike, .tritonLike].contains(self) }

    /// The scheduler's planning under this policy: squishy bin packing with stability for Nexus and its
    /// ablations, the batch-oblivious allocator for the baselines (DESIGN.md §5), each with its own split
    /// and prefix batching and otherwise `settings`.
    func planning(_ settings: PlanningSettings, curves: ModelCurves, overheadMs: Double) -> any ClusterPlanning {
        var settings = settings
        switch self {
        case .nexus, .nexusLazyDrop, .nexusNoPrefix: break
        case .nexusEvenSplit, .tfLike, .clipperLike, .tritonLike: settings.split = .even
        }
        settings.prefixBatching = [.nexus, .nexusLazyDrop, .nexusEvenSplit].contains(self)
        return isBaseline ? settings.batchObliviousPlanning(curves: curves, overheadMs: overheadMs)
                          : settings.epochPlanner(curves: curves, overheadMs: overheadMs)
    }

    /// How backends execute their sessions. Turn-taking executors ask NexusCore's `TurnPolicy`, as the
    /// backend executor of the servers does; the batch cap is each table entry's `maxBatch` (the plan's
    /// batch for Nexus, the largest safe batch `B_i` that the baselines' allocator gives).
    var executor: Executor {
        switch self {
        case .nexus, .nexusNoPrefix, .nexusEvenSplit: return .turns(drop: .early)
        case .nexusLazyDrop, .tfLike: return .turns(drop: .lazy)
        case .clipperLike: return .clipper
        case .tritonLike: return .triton
        }
    }
}
