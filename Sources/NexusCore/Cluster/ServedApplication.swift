/// An application as the cluster serves it: the tree the planner splits (`spec`), plus how each child
/// stage's inputs are made from its parent's call (DESIGN.md §3.6).
public struct ServedApplication: Sendable, Equatable {
    public var spec: ApplicationSpec
    /// Per stage, in `spec.stages` order; a root stage always takes the client's input (`.same`).
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
}
