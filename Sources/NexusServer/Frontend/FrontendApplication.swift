import NexusCore

/// An application as this frontend serves it, with what every request needs worked out once when the
/// catalog arrives instead of on every request: its root model, the outputs a response lists, and each
/// stage's key for routes and request counts.
struct FrontendApplication: Sendable {
    let served: ServedApplication
    let models: [String: ModelInterface]
    /// nil when the catalog names a root model it does not describe (each request is then an internal error).
    let root: ModelInterface?
    /// The root's spec as `InputCheck` takes it.
    let rootCheckSpec: ModelSpec?
    /// `stage/output` with the shape of one call, in stage order.
    let outputs: [(name: String, shape: [Int])]
    let outputNames: Set<String>
    /// "application/stage", per stage in `served.spec.stages` order.
    let stageKeys: [String]
    /// The key of its root stage: where admission looks for the planned rate, and where refused demand lands.
    let rootStageKey: String
    /// Its metric handles, made here once rather than per request.
    let metrics: ApplicationMetrics

    init(_ served: ServedApplication, models: [String: ModelInterface]) {
        self.served = served
        self.models = models
        root = served.spec.stages.first { $0.parent == nil }.flatMap { models[$0.model] }
        rootCheckSpec = root?.checkSpec
        outputs = served.spec.stages.flatMap { stage in
            (models[stage.model]?.outputs ?? []).map { ("\(stage.name)/\($0.name)", $0.shape) }
        }
        outputNames = Set(outputs.map(\.name))
        stageKeys = served.spec.stages.map { Self.stageKey(application: served.name, stage: $0.name) }
        rootStageKey = stageKeys[served.spec.parentIndices.firstIndex { $0 == nil } ?? 0]
        metrics = ApplicationMetrics(application: served.name, stages: served.spec.stages.map(\.name),
                                     latencySLOMs: served.spec.latencySLOMs)
    }

    var name: String { served.name }

    static func stageKey(application: String, stage: String) -> String { "\(application)/\(stage)" }
}
