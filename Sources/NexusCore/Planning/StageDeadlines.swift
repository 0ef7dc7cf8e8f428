/// Deadlines down an application tree (DESIGN.md §3.5): a call's deadline is its request's arrival plus the
/// budgets of its stage and every ancestor, so time a parent saves is slack its children keep. The frontend
/// and the simulator both take their deadlines from here.
public enum StageDeadlines {
    /// Per stage, its deadline's offset from the request's arrival, in ns. `parents[s]` is the parent of
    /// stage `s` (nil for a root); stages may be listed in any order, but the parents must form a forest.
    public static func offsetsNs(budgetsMs: [Double], parents: [Int?]) -> [Int64] {
        precondition(budgetsMs.count == parents.count, "one budget per stage: \(budgetsMs.count) budgets, \(parents.count) stages")
        var offsets = [Int64?](repeating: nil, count: parents.count)
        func offset(_ stage: Int, depth: Int) -> Int64 {
            if let known = offsets[stage] { return known }
            precondition(depth <= parents.count, "stage parents form a cycle at stage \(stage)")
            let own = Int64((budgetsMs[stage] * 1e6).rounded())
            let value = own + (parents[stage].map { offset($0, depth: depth + 1) } ?? 0)
            offsets[stage] = value
            return value
        }
        return parents.indices.map { offset($0, depth: 0) }
    }
}
