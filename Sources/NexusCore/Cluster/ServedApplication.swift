/// An application as the cluster serves it: the tree the planner splits (`spec`), plus how each child
/// stage's inputs are made from its parent's call (DESIGN.md §3.6).
public struct ServedApplication: Sendable, Equatable {
    public var spec: ApplicationSpec
    /// Per stage, in `spec.stages` order; a root stage takes the client's input (`.same`, or `.fanOut`).
    public var childInputs: [ChildInput]

    public init(spec: ApplicationSpec, childInputs: [ChildInput]) {
        precondition(childInputs.count == spec.stages.count, "one child input per stage")
        self.spec = spec
        self.childInputs = childInputs
    }

    public var name: String { spec.name }
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
