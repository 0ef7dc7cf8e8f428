/// The query latency split (DESIGN.md §3.3): give each stage of an application a budget so that every
/// root-to-leaf path sums to at most the application's SLO while the fractional GPUs `sum r_v / T_v(L_v)`
/// are smallest. The original code had this function but never called it; we run it every epoch.
public enum LatencySplit {
    /// Dynamic programme over a cost table, on a time grid of `steps` equal steps.
    ///
    /// - `parents[v]`: the stage whose output feeds `v`, or nil for a stage that takes the client's request
    ///   (several such roots run in parallel, each with the whole SLO).
    /// - `costs[v][k]`: fractional GPUs of stage `v` with a budget of `k` steps (`k` in 0...steps; index 0 is
    ///   ignored; `.infinity` when the stage cannot meet that budget at all).
    /// - Returns the budget of each stage in steps and the total cost, or nil when no split is feasible.
    ///
    /// `f(v, t) = min over k in 1...t of [cost(v, k) + sum over children c of f(c, t - k)]`; ties go to the
    /// larger `k`, so a leaf takes all the time left on its path and the stage nearer the client, whose
    /// requests have not yet earned any slack, gets the spare time.
    public static func split(parents: [Int?], costs: [[Double]], steps: Int) -> (budgetSteps: [Int], cost: Double)? {
        let count = parents.count
        precondition(costs.count == count, "costs has \(costs.count) rows for \(count) stages")
        precondition(steps >= 1, "steps must be >= 1, got \(steps)")
        var children = [[Int]](repeating: [], count: count)
        var roots: [Int] = []
        for (stage, parent) in parents.enumerated() {
            if let parent { children[parent].append(stage) } else { roots.append(stage) }
        }
        // Post-order so that children are solved before their parent.
        var order: [Int] = []
        var stack = roots.reversed().map { ($0, false) }
        while let (stage, expanded) = stack.popLast() {
            if expanded { order.append(stage); continue }
            stack.append((stage, true))
            for child in children[stage].reversed() { stack.append((child, false)) }
        }
        precondition(order.count == count, "stages do not form a forest (a cycle or a dangling parent)")

        var best = [[Double]](repeating: [Double](repeating: .infinity, count: steps + 1), count: count)
        var choice = [[Int]](repeating: [Int](repeating: 0, count: steps + 1), count: count)
        var childSum = [Double](repeating: 0, count: steps + 1)
        for stage in order {
            for t in 0...steps {
                childSum[t] = children[stage].reduce(0.0) { $0 + best[$1][t] }
            }
            for t in 1...steps {
                var value = Double.infinity
                var chosen = 0
                for k in 1...t {
                    let candidate = costs[stage][k] + childSum[t - k]
                    guard candidate.isFinite else { continue }
                    if candidate <= value + 1e-12 * max(1, abs(value)) || !value.isFinite {
                        value = candidate
                        chosen = k
                    }
                }
                best[stage][t] = value
                choice[stage][t] = chosen
            }
        }
        var total = 0.0
        for root in roots { total += best[root][steps] }
        guard total.isFinite else { return nil }
        var budget = [Int](repeating: 0, count: count)
        var pending = roots.map { ($0, steps) }
        while let (stage, t) = pending.popLast() {
            let k = choice[stage][t]
            budget[stage] = k
            for child in children[stage] { pending.append((child, t - k)) }
        }
        return (budget, total)
    }

    /// One stage of an application, as the split sees it.
    public struct Stage: Sendable {
        public var parent: Int?
        public var curve: LatencyCurve
        public var ratePerSecond: Double

        public init(parent: Int?, curve: LatencyCurve, ratePerSecond: Double) {
            self.parent = parent
            self.curve = curve
            self.ratePerSecond = ratePerSecond
        }
    }

    /// Budgets (ms) for the stages of one application and their fractional GPUs, or nil when no split lets
    /// every stage run. `overheadMs` (network and pre/post-processing per call) comes out of each budget.
    public static func budgetsMs(stages: [Stage], latencySLOMs: Double, overheadMs: Double,
                                 gpuMemoryMB: Double, steps: Int = 100) -> (budgetsMs: [Double], costGPUs: Double)? {
        let stepMs = latencySLOMs / Double(steps)
        let costs = stages.map { stage in
            (0...steps).map { k -> Double in
                guard k > 0, let point = SquishyBinPacker.operatingPoint(
                    curve: stage.curve, gpuBudgetMs: Double(k) * stepMs - overheadMs, gpuMemoryMB: gpuMemoryMB)
                else { return .infinity }
                return stage.ratePerSecond / point.throughputPerSecond
            }
        }
        guard let result = split(parents: stages.map(\.parent), costs: costs, steps: steps) else { return nil }
        return (result.budgetSteps.map { Double($0) * stepMs }, result.cost)
    }

    /// Fractional GPUs `sum r_v / T_v(L_v)` of given budgets (the split's objective), or infinity when a
    /// stage cannot run within its budget or a root-to-leaf path exceeds `latencySLOMs`.
    public static func costGPUs(stages: [Stage], budgetsMs: [Double], latencySLOMs: Double, overheadMs: Double,
                                gpuMemoryMB: Double) -> Double {
        guard budgetsMs.count == stages.count else { return .infinity }
        var total = 0.0
        for (index, stage) in stages.enumerated() {
            var pathMs = 0.0
            var current: Int? = index
            while let s = current { pathMs += budgetsMs[s]; current = stages[s].parent }
            guard pathMs <= latencySLOMs * (1 + 1e-9),
                  let point = SquishyBinPacker.operatingPoint(curve: stage.curve, gpuBudgetMs: budgetsMs[index] - overheadMs,
                                                              gpuMemoryMB: gpuMemoryMB)
            else { return .infinity }
            total += stage.ratePerSecond / point.throughputPerSecond
        }
        return total
    }

    /// The baselines' split (and the `nexus-even-split` ablation): the SLO divided evenly by the number of
    /// stages on the longest root-to-leaf path.
    public static func evenBudgetsMs(parents: [Int?], latencySLOMs: Double) -> [Double] {
        var depth = [Int](repeating: 0, count: parents.count)
        func depthOf(_ stage: Int) -> Int {
            if depth[stage] == 0 { depth[stage] = 1 + (parents[stage].map(depthOf) ?? 0) }
            return depth[stage]
        }
        let longest = parents.indices.map(depthOf).max() ?? 1
        return parents.map { _ in latencySLOMs / Double(longest) }
    }
}
