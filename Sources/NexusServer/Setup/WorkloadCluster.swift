import NexusConfig
import NexusCore
import NexusRuntime

/// What `nexus serve --workload FILE --backends N` serves: the applications of a workload file (the ones
/// `nexus simulate` runs) on SIMULATED backends, so the real cluster can be measured against the simulator
/// on the same study. Each model is synthetic: one FP32 value in, one out, and batch times drawn from the
/// workload's profile exactly as the simulator draws them. A stage's fan-out is its `gamma` (`.fanOut`).
public struct WorkloadCluster: Sendable {
    public let loaded: LoadedWorkload
    /// The phase whose gammas and rates the applications are served with.
    public let phaseIndex: Int?
    public let applications: [ServedApplication]
    public let models: [String: ModelSpec]
    /// Per application, per stage, at `phaseIndex`: what the first plan is sized for.
    public let declaredStageRates: [[Double]]

    /// `loaded` already time-scaled (`LoadedWorkload.scaled`).
    public init(loaded: LoadedWorkload, phaseIndex: Int?) throws {
        self.loaded = loaded
        self.phaseIndex = phaseIndex
        let workload = loaded.workload
        let traffic = workload.traffic(phaseIndex: phaseIndex)
        applications = workload.applications.enumerated().map { a, app in
            var spec = app
            for s in spec.stages.indices { spec.stages[s].gamma = traffic.stageGammas[a][s] }
            return ServedApplication(spec: spec, childInputs: spec.stages.map { _ in .fanOut })
        }
        var models: [String: ModelSpec] = [:]
        for name in Set(workload.applications.flatMap { $0.stages.map(\.model) }) {
            let profile = try loaded.curves.table.profile(for: name)
            models[name] = Self.syntheticModel(name, maxBatch: profile.maxBatch)
        }
        self.models = models
        declaredStageRates = traffic.stageRates
    }

    /// One FP32 value in, one out: the cheapest request that still crosses every hop of the cluster.
    public static func syntheticModel(_ name: String, maxBatch: Int) -> ModelSpec {
        ModelSpec(name: name, directory: "", filePath: "(synthetic: \(name) from a workload's profile)",
                  input: TensorSpec(name: "input", dtype: .fp32, shape: [1]), maxBatch: maxBatch,
                  outputs: [TensorSpec(name: "output", dtype: .fp32, shape: [1])])
    }

    /// Nexus's planner over the workload's profiles, with its memory and per-call overhead.
    public func planner(_ settings: PlanningSettings) -> any ClusterPlanning {
        var settings = settings
        if let memory = loaded.workload.gpuMemoryMB { settings.gpuMemoryMB = memory }
        return settings.epochPlanner(curves: loaded.curves, overheadMs: loaded.workload.overheadMs)
    }

    /// The runtime of one simulated backend; `seed` makes its batch times repeatable.
    public func runtime(seed: UInt64) -> SimulatedRuntime {
        SimulatedRuntime(profiles: loaded.curves.table.profiles, label: "\(loaded.profilesPath), workload \(loaded.workload.name)",
                         seed: seed)
    }
}
