import NexusTestSupport
import Testing
@testable import NexusCore

/// Hand-computed plans for a model whose batch of `b` takes `2 + b` ms (so `B = 8`, `l(B) = 10 ms` and
/// `T = 800/s` under a 20 ms budget).
@Suite struct PlannerHandComputedTests {
    let curve = TestCurves.affine(fixedMs: 2, perItemMs: 1, memoryMB: 600)
    let planner = Planner(config: PlannerConfig(rateHeadroom: 0))  // exact packing, no headroom

    @Test func twoResidualsMergeOntoOneGPU() {
        let plan = planner.plan([
            TestCurves.demand("a", curve: curve, budgetMs: 20, ratePerSecond: 200),
            TestCurves.demand("b", curve: curve, budgetMs: 20, ratePerSecond: 100),
        ])
        // a alone: largest b with 5b + 2 + b <= 20 is 3, d = min(20 - 5, 15) = 15, occupancy 5/15.
        // b alone: b = 1, d = min(17, 10) = 10. Merged: d = 10, a runs ceil(200*10/1000) = 2, b runs 1;
        // 4 + 3 = 7 ms <= 10 ms.
        #expect(plan.invariantViolations() == [])
        #expect(plan.gpus == 1)
        let backend = plan.backends[0]
        #expect(backend.id == 0)
        #expect(backend.dutyCycleMs == 10)
        #expect(backend.allocations.map(\.sessionID) == ["a", "b"])
        #expect(backend.allocations.map(\.batch) == [2, 1])
        #expect(backend.allocations.map(\.latencyMs) == [4, 3])
        #expect(abs(backend.occupancy - 0.7) < 1e-12)
        #expect(abs(plan.lowerBoundGPUs - 0.375) < 1e-12)
        #expect(abs(plan.utilization - 0.375) < 1e-12)
    }

    @Test func aSaturatedSessionGetsWholeGPUsPlusAResidual() {
        let plan = planner.plan([TestCurves.demand("a", curve: curve, budgetMs: 20, ratePerSecond: 2000)])
        #expect(plan.invariantViolations() == [])
        #expect(plan.gpus == 3)
        let saturated = plan.backends.filter(\.isSaturated)
        #expect(saturated.count == 2)
        for backend in saturated {
            #expect(backend.dutyCycleMs == 10)
            #expect(backend.allocations == [Allocation(sessionID: "a", batch: 8, ratePerSecond: 800, latencyMs: 10, memoryMB: 600)])
        }
        // Residual 400/s: largest b with 2.5b + 2 + b <= 20 is 5; d = min(20 - 7, 12.5) = 12.5; batch 5.
        let residual = plan.backends.first { !$0.isSaturated }!
        #expect(residual.dutyCycleMs == 12.5)
        #expect(residual.allocations.map(\.batch) == [5])
        #expect(residual.allocations.map(\.ratePerSecond) == [400])
        #expect(abs(residual.occupancy - 7 / 12.5) < 1e-12)
        #expect(abs(plan.lowerBoundGPUs - 2.5) < 1e-12)
    }

    @Test func anSLOBelowTwiceTheBatchOneLatencyIsReportedInfeasible() {
        let plan = planner.plan([
            TestCurves.demand("tight", curve: curve, budgetMs: 5.5, ratePerSecond: 100),
            TestCurves.demand("fine", curve: curve, budgetMs: 20, ratePerSecond: 100),
        ])
        #expect(plan.invariantViolations() == [])
        #expect(plan.sessions.map(\.id) == ["fine"])
        #expect(plan.infeasible.map(\.id) == ["tight"])
        #expect(plan.infeasible[0].reason == "batch-1 latency 3 ms needs a GPU budget of at least 2 x 3 = 6 ms; the session has 5.5 ms")
        #expect(plan.infeasible[0].members == ["app/tight"])
        #expect(plan.backends.flatMap(\.allocations).allSatisfy { $0.sessionID == "fine" })
    }

    @Test func aBudgetEatenByOverheadIsInfeasibleWithItsReason() {
        let plan = planner.plan([TestCurves.demand("x", curve: curve, budgetMs: 1, ratePerSecond: 10, overheadMs: 1.5)])
        #expect(plan.gpus == 0)
        #expect(plan.infeasible.first?.reason.hasPrefix("budget 1 ms leaves no GPU time") == true)
    }

    @Test func memoryKeepsSessionsThatWouldMergeApart() {
        let demands = [
            TestCurves.demand("a", curve: curve, budgetMs: 20, ratePerSecond: 200),
            TestCurves.demand("b", curve: curve, budgetMs: 20, ratePerSecond: 100),
        ]
        let tight = Planner(config: PlannerConfig(gpuMemoryMB: 1000)).plan(demands)
        #expect(tight.invariantViolations() == [])
        #expect(tight.gpus == 2)
        #expect(tight.backends.allSatisfy { $0.memoryMB == 600 })
        let roomy = Planner(config: PlannerConfig(gpuMemoryMB: 1200)).plan(demands)
        #expect(roomy.gpus == 1)
        #expect(roomy.backends[0].memoryMB == 1200)
    }

    @Test func aModelLargerThanTheDeviceIsInfeasible() {
        let plan = Planner(config: PlannerConfig(gpuMemoryMB: 500)).plan([TestCurves.demand("big", curve: curve, budgetMs: 20, ratePerSecond: 10)])
        #expect(plan.infeasible.first?.reason == "batch 1 needs 600 MB; a device has 500 MB")
    }

    @Test func headroomPlansCapacityAboveTheDemand() {
        let plan = Planner(config: PlannerConfig(rateHeadroom: 0.25)).plan([TestCurves.demand("a", curve: curve, budgetMs: 20, ratePerSecond: 1600)])
        #expect(plan.invariantViolations() == [])
        #expect(plan.sessions[0].ratePerSecond == 2000)
        #expect(plan.sessions[0].demandRatePerSecond == 1600)
        #expect(plan.gpus == 3)
        #expect(abs(plan.demandLowerBoundGPUs - 2) < 1e-12)
    }

    @Test func aClusterCapSharesTheShortfallEvenly() {
        let demands = [
            TestCurves.demand("a", curve: curve, budgetMs: 20, ratePerSecond: 4000),
            TestCurves.demand("b", curve: curve, budgetMs: 20, ratePerSecond: 2000),
        ]
        let plan = planner.plan(demands, maxBackends: 4)
        #expect(plan.invariantViolations() == [])
        #expect(plan.gpus <= 4)
        #expect(plan.admittedFraction < 1 && plan.admittedFraction > 0.4)
        let a = plan.session(id: "a")!, b = plan.session(id: "b")!
        #expect(abs(a.ratePerSecond / a.demandRatePerSecond - b.ratePerSecond / b.demandRatePerSecond) < 1e-12)
        #expect(planner.plan(demands, maxBackends: 0).gpus == 0)
    }

    /// Two sessions that cannot share a device (600 MB each on 1,000 MB) on one backend: no fraction of both
    /// fits, so sharing evenly would plan nothing; the cheaper one is planned whole and the other named.
    @Test func sessionsThatCannotShareTheOnlyBackendLeaveOneServedAndTheOtherNamed() {
        let small = Planner(config: PlannerConfig(gpuMemoryMB: 1000, rateHeadroom: 0))
        let demands = [
            TestCurves.demand("big", curve: curve, budgetMs: 20, ratePerSecond: 700),
            TestCurves.demand("light", curve: curve, budgetMs: 20, ratePerSecond: 100),
        ]
        let plan = small.plan(demands, maxBackends: 1)
        #expect(plan.invariantViolations() == [])
        #expect(plan.gpus == 1)
        #expect(plan.sessions.map(\.id) == ["light"])
        #expect(plan.session(id: "light")?.ratePerSecond == 100)
        #expect(plan.infeasible.map(\.id) == ["big"])
        #expect(plan.infeasible.first?.reason.contains("1 backend(s)") == true)
        // With room for both, both are planned as before.
        #expect(small.plan(demands, maxBackends: 2).sessions.count == 2)
    }
}

@Suite struct PlannerStabilityTests {
    let fast = TestCurves.affine("fast", fixedMs: 1, perItemMs: 0.25, maxBatch: 64)
    let slow = TestCurves.affine("slow", fixedMs: 2, perItemMs: 1)

    func demands(scaleA: Double = 1, scaleB: Double = 1) -> [SessionDemand] {
        [
            TestCurves.demand("a", curve: fast, budgetMs: 12, ratePerSecond: 5000 * scaleA),
            TestCurves.demand("b", curve: slow, budgetMs: 20, ratePerSecond: 300 * scaleB),
            TestCurves.demand("c", curve: slow, budgetMs: 30, ratePerSecond: 150),
        ]
    }

    func placements(_ plan: Plan, of session: String) -> [String] {
        plan.backends.flatMap { backend in
            backend.allocations.filter { $0.sessionID == session }.map { "\(backend.id):\($0.batch):\($0.ratePerSecond)" }
        }
    }

    @Test func ratesWithinTheBandKeepEveryPlacement() {
        let first = Planner().plan(demands())
        let second = Planner().plan(demands(scaleA: 1.09, scaleB: 0.81), previous: first)
        #expect(second.invariantViolations() == [])
        for id in ["a", "b", "c"] { #expect(placements(second, of: id) == placements(first, of: id)) }
        #expect(second.session(id: "a")!.demandRatePerSecond == 5000)
    }

    @Test func aSessionLeavingTheBandIsReplannedAndTheOthersStay() {
        let first = Planner().plan(demands())
        let second = Planner().plan(demands(scaleA: 1.5), previous: first)
        #expect(second.invariantViolations() == [])
        #expect(second.session(id: "a")!.demandRatePerSecond == 7500)
        #expect(placements(second, of: "a") != placements(first, of: "a"))
        // The saturated backends a had are reused, by id.
        let firstSaturated = Set(first.backends.filter(\.isSaturated).map(\.id))
        #expect(firstSaturated.isSubset(of: Set(second.backends.map(\.id))))
        for id in ["b", "c"] {
            let before = placements(first, of: id).map { $0.split(separator: ":")[0] }
            let after = placements(second, of: id).map { $0.split(separator: ":")[0] }
            #expect(before == after, "session \(id) moved")
        }
    }

    @Test func withoutAPreviousPlanTheSameInputGivesTheSamePlan() {
        let one = Planner().plan(demands())
        let two = Planner().plan(demands().reversed())
        #expect(one.backends.map(\.id) == two.backends.map(\.id))
        for (x, y) in zip(one.backends, two.backends) { #expect(x.allocations == y.allocations) }
    }
}
