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

    /// How backends execute their sessions.
    enum Executor: Equatable {
        /// One batch at a time, sessions visited round-robin (work-conserving), batch capped at
        /// `planned` (the plan's per-backend batch) or `safe` (`B_i`, the largest batch safe for the SLO).
        case turns(drop: DropPolicy, cap: BatchCap)
        /// One container per model, concurrent on the GPU (processor sharing), AIMD batch size, lazy drop.
        case clipper
        /// One dynamic batcher per model, concurrent on the GPU (processor sharing), queue timeout = deadline.
        case triton
    }

    enum BatchCap: Equatable { case planned, safe }

    var isBaseline: Bool { [.tfLike, .clipperLike, .tritonLike].contains(self) }

    /// Squishy bin packing with stability; baselines get the batch-oblivious allocator.
    var usesSquishyPlanner: Bool { !isBaseline }

    var splitMode: (Int) -> SessionBuilder.SplitMode {
        switch self {
        case .nexus, .nexusLazyDrop, .nexusNoPrefix: return { .optimal(steps: $0) }
        case .nexusEvenSplit, .tfLike, .clipperLike, .tritonLike: return { _ in .even }
        }
    }

    var prefixBatching: Bool { [.nexus, .nexusLazyDrop, .nexusEvenSplit].contains(self) }

    var executor: Executor {
        switch self {
        case .nexus, .nexusNoPrefix, .nexusEvenSplit: return .turns(drop: .early, cap: .planned)
        case .nexusLazyDrop: return .turns(drop: .lazy, cap: .planned)
        case .tfLike: return .turns(drop: .lazy, cap: .safe)
        case .clipperLike: return .clipper
        case .tritonLike: return .triton
        }
    }
}
