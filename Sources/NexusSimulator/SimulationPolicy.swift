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
    /// Today's peers (issue 13; DESIGN.md §5): a central deadline-driven dispatcher, per-GPU largest
    /// on-time batches with preemption, and Triton as people deploy it.
    case symphonyLike = "symphony-like"
    case shepherdLike = "shepherd-like"
    case tritonDeployed = "triton-deployed"
    /// Ours (DESIGN.md §5.4): Nexus's plan, routing and executor, whose visits grow a batch into the duty
    /// cycle's slack when the queue holds more than the plan expected (`ModelTable.growthCaps`).
    case nexusNext = "nexus-next"
    /// An ablation of ours: Nexus's sessions (prefix batching, latency split) and memory-aware placement groups
    /// behind a central dispatcher with Symphony's deferral and costs, the best-fitting idle GPU taking a batch.
    case nexusCentral = "nexus-central"

    enum Executor: Equatable {
        /// One batch at a time, sessions visited round-robin (`RoundRobinTurns`), dropping by `drop`, growing
        /// batches into the duty cycle's slack when `grow`.
        case turns(drop: DropPolicy, grow: Bool)
        /// One container per model, concurrent on the GPU (processor sharing), AIMD batch size, lazy drop.
        case clipper
        /// One dynamic batcher per model, concurrent on the GPU (processor sharing), queue timeout = deadline.
        case triton
        /// One queue per session for the whole cluster; a batch is dispatched to a GPU holding its session.
        case central(CentralDispatch)
    }

    enum CentralDispatch: Equatable {
        /// Deferred to the end of the schedulable window, then the GPU that frees first (Symphony).
        case deferred(DispatchCosts, GPUChoice)
        /// Eager largest on-time batch per GPU, with preemption (Shepherd's Flex).
        case largestOnTime(DispatchCosts, PreemptionRule)
    }

    /// Which idle GPU of a session's placement group takes its batch.
    enum GPUChoice: Equatable {
        /// The GPU idle the longest (Symphony's earliest `free_at`).
        case earliestFree
        /// The GPU holding the fewest sessions, so that GPUs that can serve many sessions stay free for them.
        case fewestSessions
    }

    /// Every model on every GPU that has the memory (the peers' deployments), or Nexus's plan widened to
    /// every GPU with memory to spare (`nexus-next`).
    var placesEverywhere: Bool { [.symphonyLike, .shepherdLike, .tritonDeployed, .nexusCentral].contains(self) }

    var isBaseline: Bool { [.tfLike, .clipperLike, .tritonLike, .symphonyLike, .shepherdLike, .tritonDeployed].contains(self) }

    /// The scheduler's planning under this policy: squishy bin packing with stability for Nexus and its
    /// ablations, the batch-oblivious allocator for the baselines (DESIGN.md §5), each with its own split
    /// and prefix batching and otherwise `settings`.
    func planning(_ settings: PlanningSettings, curves: ModelCurves, overheadMs: Double) -> any ClusterPlanning {
        var settings = settings
        switch self {
        case .nexus, .nexusLazyDrop, .nexusNoPrefix: break
        case .nexusEvenSplit, .tfLike, .clipperLike, .tritonLike, .symphonyLike, .shepherdLike, .tritonDeployed:
            settings.split = .even
        case .nexusNext, .nexusCentral: break
        }
        settings.prefixBatching = [.nexus, .nexusLazyDrop, .nexusEvenSplit, .nexusNext, .nexusCentral].contains(self)
        settings.fillsCluster = self == .nexusNext
        // The peers' and nexus-next's GPUs serve what their dispatcher sends them: the plan gives the sessions,
        // their deadlines and (nexus-next) the placement it widens.
        let batchOblivious = [.tfLike, .clipperLike, .tritonLike].contains(self)
        return batchOblivious ? settings.batchObliviousPlanning(curves: curves, overheadMs: overheadMs)
                              : settings.epochPlanner(curves: curves, overheadMs: overheadMs)
    }

    /// How backends execute their sessions. Turn-taking executors ask NexusCore's `TurnPolicy`, as the
    /// backend executor of the servers does; the batch cap is each table entry's `maxBatch` (the plan's
    /// batch for Nexus, the largest safe batch `B_i` that the baselines' allocator gives).
    var executor: Executor {
        switch self {
        case .nexus, .nexusNoPrefix, .nexusEvenSplit: return .turns(drop: .early, grow: false)
        case .nexusNext: return .turns(drop: .early, grow: true)
        case .nexusLazyDrop, .tfLike: return .turns(drop: .lazy, grow: false)
        case .clipperLike: return .clipper
        case .tritonLike, .tritonDeployed: return .triton
        case .symphonyLike: return .central(.deferred(.symphony, .earliestFree))
        case .shepherdLike: return .central(.largestOnTime(.shepherd, PreemptionRule()))
        case .nexusCentral: return .central(.deferred(.symphony, .fewestSessions))
        }
    }
}

extension SimulationPolicy.Executor {
    var growsIntoSlack: Bool {
        if case .turns(_, true) = self { return true }
        return false
    }
}
