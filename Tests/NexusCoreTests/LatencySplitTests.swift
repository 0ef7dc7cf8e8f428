import NexusTestSupport
import Testing
@testable import NexusCore

@Suite struct LatencySplitTests {
    /// Exhaustive search over every assignment of budgets in steps: the reference the DP must match.
    static func bruteForce(parents: [Int?], costs: [[Double]], steps: Int) -> Double {
        let count = parents.count
        var best = Double.infinity
        var budget = [Int](repeating: 1, count: count)
        func pathsFit() -> Bool {
            for stage in 0..<count {
                var total = 0
                var current: Int? = stage
                while let s = current { total += budget[s]; current = parents[s] }
                if total > steps { return false }
            }
            return true
        }
        func visit(_ stage: Int) {
            if stage == count {
                if pathsFit() {
                    best = min(best, zip(0..<count, budget).reduce(0) { $0 + costs[$1.0][$1.1] })
                }
                return
            }
            for k in 1...steps {
                budget[stage] = k
                visit(stage + 1)
            }
        }
        visit(0)
        return best
    }

    /// A random forest whose stages are listed in random order (a child may come before its parent).
    static func randomForest(_ count: Int, using random: inout SeededGenerator) -> [Int?] {
        let inOrder: [Int?] = (0..<count).map { stage in
            stage == 0 || Int.random(in: 0..<4, using: &random) == 0 ? nil : Int.random(in: 0..<stage, using: &random)
        }
        let position = Array(0..<count).shuffled(using: &random)
        var shuffled = [Int?](repeating: nil, count: count)
        for stage in 0..<count { shuffled[position[stage]] = inOrder[stage].map { position[$0] } }
        return shuffled
    }

    /// Costs that fall as the budget grows (more budget, bigger batches), infinite below a minimum budget.
    static func randomCosts(_ count: Int, steps: Int, using random: inout SeededGenerator) -> [[Double]] {
        (0..<count).map { _ in
            let minimum = Int.random(in: 1...3, using: &random)
            var cost = Double.random(in: 1...10, using: &random)
            return (0...steps).map { k in
                guard k >= minimum else { return .infinity }
                cost *= Double.random(in: 0.5...1, using: &random)
                return cost
            }
        }
    }

    @Test(arguments: 0..<40)
    func theDynamicProgrammeFindsTheBruteForceOptimum(seed: Int) {
        var random = SeededGenerator(seed: UInt64(seed))
        let count = Int.random(in: 1...4, using: &random)
        let steps = Int.random(in: 3...7, using: &random)
        let parents = Self.randomForest(count, using: &random)
        let costs = Self.randomCosts(count, steps: steps, using: &random)
        let expected = Self.bruteForce(parents: parents, costs: costs, steps: steps)
        let result = LatencySplit.split(parents: parents, costs: costs, steps: steps)
        if expected.isFinite {
            let found = try! #require(result)
            #expect(abs(found.cost - expected) <= 1e-9 * max(1, expected), "seed \(seed)")
            // The budgets it returns achieve that cost and fit every path.
            let achieved = found.budgetSteps.enumerated().reduce(0.0) { $0 + costs[$1.offset][$1.element] }
            #expect(abs(achieved - found.cost) <= 1e-9 * max(1, achieved))
            for stage in 0..<count {
                var total = 0
                var current: Int? = stage
                while let s = current { total += found.budgetSteps[s]; current = parents[s] }
                #expect(total <= steps)
            }
        } else {
            #expect(result == nil, "seed \(seed): no feasible split exists")
        }
    }

    @Test func aLeafTakesAllTheTimeLeftOnItsPath() {
        // Two stages in a chain, flat costs: ties go to the parent; the leaf then takes the rest.
        let costs: [[Double]] = [[.infinity, 1, 1, 1, 1], [.infinity, 2, 2, 2, 2]]
        let result = LatencySplit.split(parents: [nil, 0], costs: costs, steps: 4)!
        #expect(result.budgetSteps == [3, 1])
        #expect(result.cost == 3)
    }

    @Test func rootsRunInParallelAndEachGetsTheWholeSLO() {
        let costs: [[Double]] = [[.infinity, 5, 4, 3], [.infinity, 9, 8, 7]]
        let result = LatencySplit.split(parents: [nil, nil], costs: costs, steps: 3)!
        #expect(result.budgetSteps == [3, 3])
        #expect(result.cost == 10)
    }

    @Test func budgetsForAChainGiveTheSlowStageMoreTime() {
        // A detector (10 + b ms) feeding a fast classifier (1 + 0.1b ms) under a 100 ms SLO.
        let detector = TestCurves.affine("detector", fixedMs: 10, perItemMs: 1, maxBatch: 64)
        let classifier = TestCurves.affine("classifier", fixedMs: 1, perItemMs: 0.1, maxBatch: 64)
        let budgets = LatencySplit.budgetsMs(
            stages: [.init(parent: nil, curve: detector, ratePerSecond: 1000),
                     .init(parent: 0, curve: classifier, ratePerSecond: 3000)],
            latencySLOMs: 100, overheadMs: 1, gpuMemoryMB: 80_000)!.budgetsMs
        #expect(abs(budgets.reduce(0, +) - 100) < 1e-9)
        #expect(budgets[0] > budgets[1])
        #expect(abs(LatencySplit.costGPUs(stages: [.init(parent: nil, curve: detector, ratePerSecond: 1000),
                                                   .init(parent: 0, curve: classifier, ratePerSecond: 3000)],
                                          budgetsMs: budgets, latencySLOMs: 100, overheadMs: 1, gpuMemoryMB: 80_000)
                    - gpus(budgets)) < 1e-9)
        let even = LatencySplit.evenBudgetsMs(parents: [nil, 0], latencySLOMs: 100)
        #expect(even == [50, 50])
        // The split's fractional GPUs are no worse than the even split's.
        func gpus(_ b: [Double]) -> Double {
            1000 / detector.saturatedPoint(gpuBudgetMs: b[0] - 1)!.throughputPerSecond
                + 3000 / classifier.saturatedPoint(gpuBudgetMs: b[1] - 1)!.throughputPerSecond
        }
        #expect(gpus(budgets) <= gpus(even))
    }

    @Test func anImpossibleTreeHasNoSplit() {
        let slow = TestCurves.affine("slow", fixedMs: 30, perItemMs: 1)
        #expect(LatencySplit.budgetsMs(stages: [.init(parent: nil, curve: slow, ratePerSecond: 1)],
                                       latencySLOMs: 50, overheadMs: 0, gpuMemoryMB: 80_000) == nil)
    }

    @Test func evenSplitDividesByTheLongestPath() {
        #expect(LatencySplit.evenBudgetsMs(parents: [nil, 0, 1, 0], latencySLOMs: 60) == [20, 20, 20, 20])
        #expect(LatencySplit.evenBudgetsMs(parents: [nil, nil], latencySLOMs: 8) == [8, 8])
    }
}
