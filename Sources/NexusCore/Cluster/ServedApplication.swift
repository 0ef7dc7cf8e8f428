/// An application as the cluster serves it: the tree the planner splits (`spec`), plus how each child
/// stage's inputs are made from its parent's call (DESIGN.md §3.6).
public struct ServedApplication: Sendable, Equatable {
    public var spec: ApplicationSpec
    /// Per stage, in `spec.stages` order; a root stage takes the client's input (`.same`, or `.fanOut`).
    public var childInputs: [ChildInput]
    /// Client requests per second the operator expects (the application file's `expectedRatePerSecond`): the
    /// first plan is sized for it, so a cluster that starts under load is not planned for one request a second.
    public var expectedRatePerSecond: Double?

    public init(spec: ApplicationSpec, childInputs: [ChildInput], expectedRatePerSecond: Double? = nil) {
        precondition(childInputs.count == spec.stages.count, "one child input per stage")
        precondition(expectedRatePerSecond.map { $0.isFinite && $0 >= 0 } ?? true, "expectedRatePerSecond must be finite and >= 0")
        self.spec = spec
        self.childInputs = childInputs
        self.expectedRatePerSecond = expectedRatePerSecond
    }

    public var name: String { spec.name }

    /// Calls per second each stage expects at `expectedRatePerSecond` (nil when none is declared).
    public var expectedStageRates: [Double]? {
        expectedRatePerSecond.map { spec.stageRates(applicationRatePerSecond: $0, gammas: spec.stages.map { $0.gamma ?? 1 }) }
    }
}

public enum ChildInput: Sendable, Equatable {
    /// The parent's own input, once per parent call.
    case same
    /// One call per detection of the parent's output `boxesOutput` (rows of x1, y1, x2, y2, score, in [0, 1])
    /// scoring above `scoreAbove`, in output order, at most `maxCrops`.
    case crops(boxesOutput: String, scoreAbove: Double, maxCrops: Int)
    /// The parent's own input (a root's: the client's), `gamma` times per parent call: a workload file's
    /// synthetic application, whose fan-out is a number (`StageSpec.gamma`) rather than detections.
    case fanOut
}

/// How many calls a `.fanOut` stage makes per parent call: `gamma` rounded down, plus one more with the
/// fractional part's probability, so the mean is `gamma` (the simulator draws the same way).
public enum FanOut {
    /// `unit`: a uniform draw in [0, 1).
    public static func calls(gamma: Double, unit: Double) -> Int {
        guard gamma > 0, gamma.isFinite else { return 0 }
        let whole = Int(gamma)
        return whole + (unit < gamma - Double(whole) ? 1 : 0)
    }
}
