import NexusTestSupport
import Testing
@testable import NexusCore

/// Random workloads: every plan must meet every constraint of DESIGN.md §3.2, with or without a previous
/// plan, a cluster cap or consolidation, and never use fewer GPUs than the lower bound.
@Suite struct PlannerPropertyTests {
    static func randomCurve(_ name: String, using random: inout SeededGenerator) -> LatencyCurve {
        // Measured-looking profiles: a fixed cost, a per-item cost, and noise that can break monotonicity.
        let fixed = Double.random(in: 0.2...5, using: &random)
        let perItem = Double.random(in: 0.01...1, using: &random)
        let maxBatch = [8, 16, 32, 64, 128].randomElement(using: &random)!
        var batches = [1]
        while batches.last! < maxBatch { batches.append(batches.last! * 2) }
        let points = batches.map { b in
            ProfilePoint(batch: b,
                         planningLatencyMs: (fixed + perItem * Double(b)) * Double.random(in: 0.9...1.1, using: &random),
                         memoryMB: Double.random(in: 100...3000, using: &random) + Double(b) * 5)
        }
        return LatencyCurve(profile: try! ModelProfile(model: name, points: points))
    }

    static func randomDemands(count: Int, using random: inout SeededGenerator) -> [SessionDemand] {
        (0..<count).map { i in
            let curve = randomCurve("m\(i % 7)", using: &random)
            let budget = Double.random(in: 1...80, using: &random)
            let rate = Bool.random(using: &random) ? Double.random(in: 0...200, using: &random)
                                                   : Double.random(in: 0...20_000, using: &random)
            return TestCurves.demand("s\(i)", curve: curve, budgetMs: budget, ratePerSecond: rate,
                                     overheadMs: Double.random(in: 0...1, using: &random))
        }
    }

    @Test(arguments: 0..<60)
    func everyPlanMeetsEveryConstraint(seed: Int) {
        var random = SeededGenerator(seed: UInt64(seed))
        let demands = Self.randomDemands(count: Int.random(in: 1...40, using: &random), using: &random)
        let memory = Bool.random(using: &random) ? 81_559 : Double.random(in: 1000...8000, using: &random)
        let config = PlannerConfig(gpuMemoryMB: memory, rateHeadroom: Double.random(in: 0...0.2, using: &random),
                                   consolidate: Bool.random(using: &random))
        let plan = Planner(config: config).plan(demands)
        #expect(plan.invariantViolations() == [], "seed \(seed)")
        #expect(plan.lowerBoundGPUs <= Double(plan.gpus) + 1e-9)
        #expect(plan.sessions.count + plan.infeasible.count == demands.count)
        #expect(plan.backends.map(\.id) == Array(0..<plan.gpus), "fresh plans number backends from 0")
    }

    @Test(arguments: 0..<40)
    func replanningKeepsEveryConstraint(seed: Int) {
        var random = SeededGenerator(seed: UInt64(1000 + seed))
        var demands = Self.randomDemands(count: Int.random(in: 1...30, using: &random), using: &random)
        let planner = Planner()
        var plan = planner.plan(demands)
        for epoch in 0..<5 {
            for i in demands.indices {
                // Most rates drift within the band; some jump out of it.
                let factor = Bool.random(using: &random) ? Double.random(in: 0.85...1.05, using: &random)
                                                         : Double.random(in: 0.2...3, using: &random)
                demands[i].ratePerSecond *= factor
            }
            let cap = Bool.random(using: &random) ? Int.random(in: 0...(plan.gpus + 2), using: &random) : nil
            let next = planner.plan(demands, previous: plan, maxBackends: cap)
            #expect(next.invariantViolations() == [], "seed \(seed), epoch \(epoch)")
            if let cap { #expect(next.gpus <= cap) }
            #expect(Set(next.backends.map(\.id)).count == next.gpus)
            plan = next
        }
    }

    @Test(arguments: 0..<30)
    func consolidationNeverAddsAGPU(seed: Int) {
        var random = SeededGenerator(seed: UInt64(5000 + seed))
        let demands = Self.randomDemands(count: Int.random(in: 2...40, using: &random), using: &random)
        let with = Planner(config: PlannerConfig(consolidate: true)).plan(demands)
        let without = Planner(config: PlannerConfig(consolidate: false)).plan(demands)
        #expect(with.gpus <= without.gpus)
        #expect(with.invariantViolations() == [])
    }
}

@Suite struct ConsolidationTests {
    /// Residuals left on separate backends (as stability can leave them) are moved into one when they fit.
    @Test func theLeastOccupiedBackendsAreEmptiedWhenTheirSessionsFitElsewhere() {
        let curve = TestCurves.affine(fixedMs: 2, perItemMs: 1)
        var packer = SquishyBinPacker(gpuMemoryMB: 10_000)
        for (id, rate) in [("a", 200.0), ("b", 100.0), ("c", 50.0)] {
            packer.sessions.append(.init(id: id, curve: curve, gpuBudgetMs: 20, point: curve.saturatedPoint(gpuBudgetMs: 20)!,
                                         ratePerSecond: rate, kept: false))
        }
        for index in 0..<3 {
            let (batch, duty) = packer.residualPoint(session: index, ratePerSecond: packer.sessions[index].ratePerSecond)!
            packer.addResidualBackend(.init(session: index, ratePerSecond: packer.sessions[index].ratePerSecond, batch: batch,
                                            dutyCycleMs: duty, occupancy: curve.latencyMs[batch] / duty))
        }
        packer.consolidate()
        let open = packer.backends.filter { !$0.removed }
        #expect(open.count == 1)
        #expect(open[0].members.map(\.session).sorted() == [0, 1, 2])
        // d = min(15, 10, 17) = 10; batches ceil(2), ceil(1), ceil(0.5) = 2, 1, 1: 4 + 3 + 3 = 10 ms.
        #expect(open[0].dutyCycleMs == 10)
        #expect(open[0].busyMs == 10)
    }

    @Test func aMoveThatCannotEmptyTheBackendIsUndone() {
        // Memory is the only limit here (rates are tiny): backend P holds a, backend X holds c1 and c2, and a
        // device fits two sessions. c1 moves into P, c2 then fits nowhere, so c1's move must be undone.
        let curve = TestCurves.affine(fixedMs: 2, perItemMs: 1, memoryMB: 400)
        var packer = SquishyBinPacker(gpuMemoryMB: 1000)
        for id in ["a", "c1", "c2"] {
            packer.sessions.append(.init(id: id, curve: curve, gpuBudgetMs: 20, point: curve.saturatedPoint(gpuBudgetMs: 20)!,
                                         ratePerSecond: 10, kept: false))
        }
        func residual(_ index: Int) -> SquishyBinPacker.Residual {
            let (batch, duty) = packer.residualPoint(session: index, ratePerSecond: 10)!
            return .init(session: index, ratePerSecond: 10, batch: batch, dutyCycleMs: duty, occupancy: curve.latencyMs[batch] / duty)
        }
        packer.addResidualBackend(residual(0))
        packer.addResidualBackend(residual(1))
        packer.merge(residual(2), into: 1)
        let before = packer.backends.map { ($0.members.map(\.session), $0.busyMs, $0.memoryMB, $0.dutyCycleMs) }
        #expect(packer.tryToEmpty(1) == false)
        let after = packer.backends.map { ($0.members.map(\.session), $0.busyMs, $0.memoryMB, $0.dutyCycleMs) }
        #expect(after.map(\.0) == before.map(\.0))
        #expect(after.map(\.1) == before.map(\.1))
        #expect(after.map(\.2) == before.map(\.2))
        #expect(after.map(\.3) == before.map(\.3))
        #expect(packer.backends.allSatisfy { !$0.removed })
        // With room for three sessions the same backend empties.
        var roomy = SquishyBinPacker(gpuMemoryMB: 1200)
        roomy.sessions = packer.sessions
        roomy.backends = packer.backends
        #expect(roomy.tryToEmpty(1) == true)
        #expect(roomy.backends[0].members.map(\.session) == [0, 1, 2])
    }
}
