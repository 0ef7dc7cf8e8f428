/// One session to place: a model (or a prefix family) under one latency budget, at a measured rate.
/// The planner's input; built from applications by `SessionBuilder`.
public struct SessionDemand: Sendable {
    /// Stable across epochs for the same (model, budget): placements are kept by this id.
    public var id: String
    public var curve: LatencyCurve
    /// The stage budget the session is planned for (what `latencySLOMs` means for a session).
    public var latencySLOMs: Double
    /// `L' = latencySLOMs - networkMs - preMs - postMs`: what is left for queueing plus GPU time.
    public var gpuBudgetMs: Double
    /// Measured (or declared) request rate.
    public var ratePerSecond: Double
    /// For display: the prefix group, if this session is a prefix family.
    public var prefixGroup: String?
    /// `app/stage` names served by this session.
    public var members: [String]

    public init(id: String, curve: LatencyCurve, latencySLOMs: Double, gpuBudgetMs: Double,
                ratePerSecond: Double, prefixGroup: String? = nil, members: [String] = []) {
        self.id = id
        self.curve = curve
        self.latencySLOMs = latencySLOMs
        self.gpuBudgetMs = gpuBudgetMs
        self.ratePerSecond = ratePerSecond
        self.prefixGroup = prefixGroup
        self.members = members
    }

    public var model: String { curve.model }
}
