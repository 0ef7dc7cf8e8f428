/// The traffic of one study (DESIGN.md §5, `data/workloads/README.md` defines every key): applications,
/// their trees, rates, and phases that change rates and gammas over time. Plain values decoded from YAML by
/// `NexusConfig`; `validate()` checks every cross-reference and limit.
public struct Workload: Sendable, Equatable, Decodable {
    public var name: String
    /// Profile file, relative to the workload file's directory or its parent.
    public var profiles: String
    public var profileColumn: String?
    /// One-way network cost per model call, taken out of each stage's budget.
    public var networkMs: Double?
    /// CPU pre/post-processing per model call; also taken out of each stage's budget (0 when absent).
    public var preprocessMs: Double?
    public var postprocessMs: Double?
    /// Cluster size of a fixed-cluster run.
    public var gpus: Int?
    /// Memory of one device (default: an 80 GB H100).
    public var gpuMemoryMB: Double?
    public var totalRatePerSecond: Double
    public var arrival: ArrivalKind?
    public var durationSeconds: Double?
    public var applications: [ApplicationSpec]
    public var phases: [PhaseSpec]?

    public init(name: String, profiles: String, profileColumn: String? = nil, networkMs: Double? = nil,
                preprocessMs: Double? = nil, postprocessMs: Double? = nil, gpus: Int? = nil,
                gpuMemoryMB: Double? = nil, totalRatePerSecond: Double, arrival: ArrivalKind? = nil,
                durationSeconds: Double? = nil, applications: [ApplicationSpec], phases: [PhaseSpec]? = nil) {
        self.name = name
        self.profiles = profiles
        self.profileColumn = profileColumn
        self.networkMs = networkMs
        self.preprocessMs = preprocessMs
        self.postprocessMs = postprocessMs
        self.gpus = gpus
        self.gpuMemoryMB = gpuMemoryMB
        self.totalRatePerSecond = totalRatePerSecond
        self.arrival = arrival
        self.durationSeconds = durationSeconds
        self.applications = applications
        self.phases = phases
    }

    /// Network plus pre/post-processing per model call: `L - L'` of DESIGN.md §3.2.
    public var overheadMs: Double { (networkMs ?? 0) + (preprocessMs ?? 0) + (postprocessMs ?? 0) }

    public static let knownKeys: Set<String> = [
        "name", "profiles", "profileColumn", "networkMs", "preprocessMs", "postprocessMs", "gpus", "gpuMemoryMB",
        "totalRatePerSecond", "arrival", "durationSeconds", "applications", "phases",
    ]
}

public enum ArrivalKind: String, Sendable, Equatable, Decodable, CaseIterable {
    /// Exponential gaps.
    case poisson
    /// Evenly spaced requests.
    case uniform
}

public struct ApplicationSpec: Sendable, Equatable, Decodable {
    public var name: String
    /// Several applications sharing a group can be scaled together by a phase.
    public var group: String?
    public var latencySLOMs: Double
    public var rateShare: Double
    public var stages: [StageSpec]

    public init(name: String, group: String? = nil, latencySLOMs: Double, rateShare: Double, stages: [StageSpec]) {
        self.name = name
        self.group = group
        self.latencySLOMs = latencySLOMs
        self.rateShare = rateShare
        self.stages = stages
    }

    public static let knownKeys: Set<String> = ["name", "group", "latencySLOMs", "rateShare", "stages"]

    /// Index of each stage's parent (nil for a root). Valid after `Workload.validate()`.
    public var parentIndices: [Int?] {
        stages.map { stage in stage.parent.flatMap { parent in stages.firstIndex { $0.name == parent } } }
    }

    /// Calls per second of each stage when clients send `applicationRatePerSecond`: a root's rate times its
    /// gamma, a child's its parent's rate times its own (`gammas[s]`: calls per parent call).
    public func stageRates(applicationRatePerSecond: Double, gammas: [Double]) -> [Double] {
        precondition(gammas.count == stages.count, "one gamma per stage")
        let parents = parentIndices
        var rates = [Double?](repeating: nil, count: stages.count)
        func rate(_ stage: Int) -> Double {
            if let known = rates[stage] { return known }
            let value = (parents[stage].map(rate) ?? applicationRatePerSecond) * gammas[stage]
            rates[stage] = value
            return value
        }
        return stages.indices.map(rate)
    }
}

public struct StageSpec: Sendable, Equatable, Decodable {
    public var name: String
    public var model: String
    /// The stage whose output this one consumes; nil: the stage takes the client's request.
    public var parent: String?
    /// Calls of this stage per call of its parent (per request for a root); default 1.
    public var gamma: Double?
    /// Stages of one prefix group share the model's prefix layers and are batched together.
    public var prefixGroup: String?
    /// The stage's own last layers within its prefix group.
    public var head: String?

    public init(name: String, model: String, parent: String? = nil, gamma: Double? = nil,
                prefixGroup: String? = nil, head: String? = nil) {
        self.name = name
        self.model = model
        self.parent = parent
        self.gamma = gamma
        self.prefixGroup = prefixGroup
        self.head = head
    }

    public static let knownKeys: Set<String> = ["name", "model", "parent", "gamma", "prefixGroup", "head"]
}

/// From `atSeconds` on, application rates are the base rate times `scale` and the named stages run with the
/// given gammas. Each phase is relative to the base workload, not to the phase before: what a phase does not
/// name runs at its base value.
public struct PhaseSpec: Sendable, Equatable, Decodable {
    public var atSeconds: Double
    public var name: String?
    /// Keys: an application or a group name.
    public var scale: [String: Double]?
    /// Keys: a stage name (every application's stage of that name) or `app/stage`.
    public var gamma: [String: Double]?

    public init(atSeconds: Double, name: String? = nil, scale: [String: Double]? = nil, gamma: [String: Double]? = nil) {
        self.atSeconds = atSeconds
        self.name = name
        self.scale = scale
        self.gamma = gamma
    }

    public static let knownKeys: Set<String> = ["atSeconds", "name", "scale", "gamma"]
}
