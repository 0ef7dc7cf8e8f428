#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import NexusCore

/// The scheduler's state driven by hand-fed events and times: two small applications over affine curves
/// (`det`: 2 + b ms, `cls`: 1 + 0.5 b ms), beacons every 2 s, a node dead after 3 silent beacons.
@Suite struct SchedulerStateTests {
    static let second: Int64 = 1_000_000_000

    static let curves = ModelCurves(table: ProfileTable(source: "test", column: .graphP99, profiles: [
        try! ModelProfile(model: "det", points: [1, 16].map { ProfilePoint(batch: $0, planningLatencyMs: 2 + Double($0), memoryMB: 500) }),
        try! ModelProfile(model: "cls", points: [1, 16].map { ProfilePoint(batch: $0, planningLatencyMs: 1 + 0.5 * Double($0), memoryMB: 200) }),
    ]))

    /// `chain`: det -> cls (crops); `solo`: cls alone.
    static let applications = [
        ServedApplication(
            spec: ApplicationSpec(name: "chain", latencySLOMs: 60, rateShare: 1, stages: [
                StageSpec(name: "det", model: "det"),
                StageSpec(name: "cls", model: "cls", parent: "det", gamma: 2),
            ]),
            childInputs: [.same, .crops(boxesOutput: "boxes", scoreAbove: 0.5, maxCrops: 4)]),
        ServedApplication(
            spec: ApplicationSpec(name: "solo", latencySLOMs: 30, rateShare: 1, stages: [StageSpec(name: "cls", model: "cls")]),
            childInputs: [.same]),
    ]

    static let stageKeys = ["chain/det", "chain/cls", "solo/cls"]

    func makeState(config: SchedulerConfig = SchedulerConfig()) -> SchedulerState {
        let epochPlanner = EpochPlanner(builder: SessionBuilder(curves: Self.curves, overheadMs: 1, gpuMemoryMB: 16_000),
                                        planner: Planner(config: PlannerConfig(gpuMemoryMB: 16_000, rateHeadroom: 0)))
        return SchedulerState(applications: Self.applications, planner: epochPlanner, config: config)
    }

    func curve(of model: String) -> LatencyCurve { try! Self.curves.curve(for: model) }

    /// Every stage binding has a session, and that session has at least one route, all to live backends.
    func expectEveryStageRouted(_ state: SchedulerState, to allowed: Set<UInt64>, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(state.assignment.stages.count == 3, sourceLocation: sourceLocation)
        for binding in state.assignment.stages {
            #expect(!binding.sessionID.isEmpty, "\(binding.application)/\(binding.stage) has no session", sourceLocation: sourceLocation)
            let routes = state.assignment.routes[binding.sessionID] ?? []
            #expect(!routes.isEmpty, "\(binding.sessionID) has no route", sourceLocation: sourceLocation)
            for route in routes {
                #expect(allowed.contains(route.nodeID), "\(binding.sessionID) routed to \(route.nodeID)", sourceLocation: sourceLocation)
                #expect(route.ratePerSecond > 0, sourceLocation: sourceLocation)
            }
        }
    }

    /// Sessions listed in a node's model table.
    func tableSessions(_ state: SchedulerState, _ node: UInt64) -> Set<String> {
        Set(state.assignment.tables[node]?.sessions.map(\.sessionID) ?? [])
    }

    // MARK: (1) no backends

    @Test func withoutBackendsNothingIsRoutedAndStagesHaveNoSession() throws {
        var state = makeState()
        // A frontend alone is no reason to plan.
        let frontend = state.register(kind: .frontend, address: "fe:1", device: "cpu", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0) == false)
        #expect(state.planCount == 0)

        #expect(try state.replan(nowNs: Self.second, reason: "operator"))
        #expect(state.current == nil)
        #expect(state.assignment.version == 1)
        #expect(state.assignment.routes.isEmpty)
        #expect(state.assignment.tables.isEmpty, "a frontend gets no model table")
        #expect(state.assignment.tables[frontend] == nil)
        #expect(state.assignment.stages.map { "\($0.application)/\($0.stage)" } == Self.stageKeys)
        #expect(state.assignment.stages.allSatisfy { $0.sessionID.isEmpty && $0.budgetMs == 0 })
        #expect(state.lastPlanReason == "operator" && state.lastPlanNs == Self.second)
        // Same (empty) state again: nothing changes.
        #expect(try state.replan(nowNs: 2 * Self.second, reason: "again") == false)
        #expect(state.assignment.version == 1)
    }

    // MARK: (2) a backend registers

    @Test func aRegisteredBackendGetsEverySessionWithItsTable() throws {
        var state = makeState()
        let backend = state.register(kind: .backend, address: "be:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        #expect(state.nodes[backend]?.kind == .backend)
        #expect(try state.update(nowNs: 0))
        #expect(state.lastPlanReason.contains("joined"))
        #expect(state.assignment.version == 1)
        #expect(state.assignment.infeasible.isEmpty)
        expectEveryStageRouted(state, to: [backend])
        for binding in state.assignment.stages { #expect(binding.budgetMs > 0) }

        let stageSessions = Set(state.assignment.stages.map(\.sessionID))
        #expect(tableSessions(state, backend) == stageSessions)
        #expect(Set(state.assignment.routes.keys) == stageSessions)
        let table = try #require(state.assignment.tables[backend])
        #expect(table.dutyCycleMs > 0)
        let plan = try #require(state.current).plan
        for entry in table.sessions {
            let session = try #require(plan.session(id: entry.sessionID))
            #expect(entry.models == [session.model])
            #expect(entry.maxBatch >= 1)
            let allocation = try #require(plan.backends.flatMap(\.allocations).first { $0.sessionID == entry.sessionID })
            #expect(entry.maxBatch == allocation.batch)
            // The profile's latency for every batch of the curve, past maxBatch too (a nexus-next backend may
            // grow a batch into its slack; affine curves: exact).
            let (fixed, perItem) = session.model == "det" ? (2.0, 1.0) : (1.0, 0.5)
            #expect(entry.latencyMs == (1...session.curve.maxBatch).map { fixed + perItem * Double($0) })
            // The route's weight is the plan's rate for the session.
            let routed = state.assignment.routes[entry.sessionID]!.reduce(0) { $0 + $1.ratePerSecond }
            #expect(abs(routed - session.ratePerSecond) < 1e-9)
            #expect(state.assignment.routes[entry.sessionID]!.allSatisfy { $0.address == "be:1" })
        }
        // Every stage is planned at the minimum rate before any report.
        #expect(state.planningRates() == [[1, 1], [1]])

        // Nothing pending, and the same state planned again gives the same assignment.
        #expect(try state.update(nowNs: Self.second) == false)
        let before = state.assignment
        #expect(try state.replan(nowNs: Self.second, reason: "again") == false)
        #expect(state.assignment == before)
        #expect(state.assignment.version == 1)
        #expect(state.planCount == 2)
    }

    // MARK: (3) real before simulated

    @Test func realBackendsTakePlanBackendsBeforeSimulatedOnes() throws {
        var state = makeState()
        let simulated = state.register(kind: .backend, address: "sim:1", device: "simulated", runtime: "simulated", nowNs: 0)
        let torch = state.register(kind: .backend, address: "gpu:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        #expect(simulated < torch)
        #expect(state.liveBackends.map(\.id) == [torch, simulated])
        #expect(try state.update(nowNs: 0))
        #expect(state.current?.plan.gpus == 1)
        expectEveryStageRouted(state, to: [torch])
        #expect(tableSessions(state, torch) == Set(state.assignment.stages.map(\.sessionID)))
        // The idle simulated backend still gets a table, an empty one.
        #expect(state.assignment.tables[simulated] == ModelTable(dutyCycleMs: 0, sessions: []))
        #expect(Set(state.backendNodes.values) == [torch])
    }

    // MARK: (4) heartbeats and death

    @Test func heartbeatsKeepANodeAliveAndASilentOneIsDeclaredDead() throws {
        var state = makeState()
        let a = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0))
        let b = state.register(kind: .backend, address: "b:1", device: "cuda:1", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0))
        // Placements stay on a; b joins idle.
        expectEveryStageRouted(state, to: [a])
        #expect(tableSessions(state, b).isEmpty)
        let version = state.assignment.version

        // b beats; a is silent. Silence of exactly 3 beacons (6 s) is still alive.
        for t in [2, 4, 6] as [Int64] {
            #expect(state.heartbeat(nodeID: b, utilization: 0.1, nowNs: t * Self.second) == true)
            #expect(try state.beacon(nowNs: t * Self.second) == false, "t = \(t) s")
            #expect(state.nodes[a] != nil, "t = \(t) s")
        }
        #expect(state.nodes[b]?.lastSeenNs == 6 * Self.second)
        #expect(state.nodes[b]?.utilization == 0.1)
        #expect(state.assignment.version == version)

        // More than 3 beacons: a is dead, and everything it ran is placed again on b.
        #expect(state.heartbeat(nodeID: b, utilization: 0.1, nowNs: 8 * Self.second) == true)
        #expect(try state.beacon(nowNs: 8 * Self.second))
        #expect(state.nodes[a] == nil)
        #expect(state.nodes[b] != nil)
        #expect(state.lastPlanReason.contains("silent"))
        #expect(state.assignment.version == version + 1)
        #expect(state.assignment.tables[a] == nil)
        expectEveryStageRouted(state, to: [b])
        #expect(tableSessions(state, b) == Set(state.assignment.stages.map(\.sessionID)))
        #expect(Set(state.backendNodes.values) == [b])
        // The dead node must register again.
        #expect(state.heartbeat(nodeID: a, utilization: 0, nowNs: 8 * Self.second) == false)
    }

    @Test func aNodeThatKeepsBeatingIsNeverDeclaredDead() throws {
        var state = makeState()
        let a = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        let frontend = state.register(kind: .frontend, address: "fe:1", device: "cpu", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0))
        for t in stride(from: 2, through: 28, by: 2) as StrideThrough<Int64> {
            #expect(state.heartbeat(nodeID: a, utilization: 0.5, nowNs: t * Self.second) == true)
            #expect(state.heartbeat(nodeID: frontend, utilization: 0, nowNs: t * Self.second) == true)
            #expect(try state.beacon(nowNs: t * Self.second) == false)
        }
        #expect(state.nodes.keys.sorted() == [a, frontend])
        expectEveryStageRouted(state, to: [a])
        // The frontend goes silent (last beat at 28 s). The epoch plan at 30 s changes nothing; the frontend
        // dies after 36 s without a plan of its own (it runs no session).
        #expect(state.heartbeat(nodeID: a, utilization: 0.5, nowNs: 30 * Self.second) == true)
        #expect(try state.beacon(nowNs: 30 * Self.second) == false)
        #expect(state.lastPlanReason == "epoch")
        let plans = state.planCount
        for t in [32, 34] as [Int64] {
            #expect(state.heartbeat(nodeID: a, utilization: 0.5, nowNs: t * Self.second) == true)
            #expect(try state.beacon(nowNs: t * Self.second) == false)
            #expect(state.nodes[frontend] != nil)
        }
        #expect(state.heartbeat(nodeID: a, utilization: 0.5, nowNs: 36 * Self.second) == true)
        #expect(try state.beacon(nowNs: 36 * Self.second) == false)
        #expect(state.nodes[frontend] == nil)
        #expect(state.nodes[a] != nil)
        #expect(state.planCount == plans)
        #expect(state.heartbeat(nodeID: frontend, utilization: 0, nowNs: 38 * Self.second) == false)
    }

    /// Regression: a session whose only backend died must be placed again, also when the dead backend
    /// shared the load with a live one.
    @Test func sessionsOfADeadBackendArePlacedAgainWhenTheLoadSpansTwoBackends() throws {
        var state = makeState()
        let a = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        let b = state.register(kind: .backend, address: "b:1", device: "cuda:1", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0))
        var t: Int64 = 0
        // Enough load that the plan needs both backends.
        for _ in 0..<3 {
            t += 2
            state.report(counts: Self.heavyLoad)
            #expect(state.heartbeat(nodeID: a, utilization: 0.5, nowNs: t * Self.second) == true)
            #expect(state.heartbeat(nodeID: b, utilization: 0.5, nowNs: t * Self.second) == true)
            _ = try state.beacon(nowNs: t * Self.second)
        }
        try #require(state.current?.plan.gpus == 2)
        #expect(!tableSessions(state, a).isEmpty && !tableSessions(state, b).isEmpty)
        expectEveryStageRouted(state, to: [a, b])

        // a goes silent; b keeps beating and the load goes on.
        let lastA = t
        while t - lastA <= 6 {
            t += 2
            state.report(counts: Self.heavyLoad)
            #expect(state.heartbeat(nodeID: b, utilization: 0.5, nowNs: t * Self.second) == true)
            _ = try state.beacon(nowNs: t * Self.second)
        }
        #expect(state.nodes[a] == nil)
        expectEveryStageRouted(state, to: [b])
        #expect(tableSessions(state, b) == Set(state.assignment.stages.map(\.sessionID)))
        #expect(state.assignment.tables.keys.sorted() == [b])
    }

    // MARK: (5) reports and rates

    @Test func reportsRaiseThePlanningRatesAndARiseTriggersAPlan() throws {
        var state = makeState()
        let a = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0))
        let detSession = state.assignment.stages[0].sessionID
        let plannedBefore = try #require(state.current?.plan.session(id: detSession)).demandRatePerSecond
        #expect(plannedBefore == 1)

        // Unknown stages are returned; known ones counted (negative counts ignored).
        let unknown = state.report(counts: [("chain/det", 300), ("bogus/x", 3), ("chain/det", 100), ("solo", 1), ("solo/cls", -5)])
        #expect(unknown == ["bogus/x", "solo"])
        #expect(state.planningRates() == [[1, 1], [1]], "counts are folded in at the beacon")

        #expect(state.heartbeat(nodeID: a, utilization: 0, nowNs: 2 * Self.second) == true)
        #expect(try state.beacon(nowNs: 2 * Self.second))
        // 400 requests in a 2 s beacon: the first measurement sets the rate; the others stay at the minimum.
        #expect(state.planningRates() == [[200, 1], [1]])
        #expect(state.stageRatesPerSecond == ["chain/det": 200, "chain/cls": 1, "solo/cls": 1])
        #expect(state.lastPlanReason.contains("rate"))
        #expect(state.lastPlanReason == "rate of \(detSession) left the band")
        #expect(state.lastPlanNs == 2 * Self.second)
        let det = state.assignment.stages[0].sessionID
        let planned = try #require(state.current?.plan.session(id: det))
        #expect(planned.demandRatePerSecond == 200)
        let routed = state.assignment.routes[det]!.reduce(0) { $0 + $1.ratePerSecond }
        #expect(abs(routed - 200) < 1e-9)

        // A small rise (+10%, within 3 Poisson sigmas) is smoothed: EWMA with weight 1 - exp(-2/10).
        state.report(counts: [("chain/det", 440)])
        #expect(state.heartbeat(nodeID: a, utilization: 0, nowNs: 4 * Self.second) == true)
        #expect(try state.beacon(nowNs: 4 * Self.second) == false)
        let expected = 200 + (1 - exp(-0.2)) * (220 - 200)
        #expect(abs(state.planningRates()[0][0] - expected) < 1e-9)
        #expect(state.lastPlanNs == 2 * Self.second, "inside the band: no plan")

        // A steady rate with no report decays towards zero but never plans below the minimum.
        var t: Int64 = 4
        for _ in 0..<5 {
            t += 2
            #expect(state.heartbeat(nodeID: a, utilization: 0, nowNs: t * Self.second) == true)
            _ = try state.beacon(nowNs: t * Self.second)
        }
        #expect(state.planningRates()[0][0] < expected)
        #expect(state.planningRates()[1][0] == 1)
    }

    @Test func anApplicationsExpectedRateSizesTheFirstPlan() throws {
        var applications = Self.applications
        applications[0].expectedRatePerSecond = 150   // chain: det at 150/s, cls (gamma 2) at 300/s
        let epochPlanner = EpochPlanner(builder: SessionBuilder(curves: Self.curves, overheadMs: 1, gpuMemoryMB: 16_000),
                                        planner: Planner(config: PlannerConfig(gpuMemoryMB: 16_000, rateHeadroom: 0)))
        var state = SchedulerState(applications: applications, planner: epochPlanner)
        _ = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0))
        #expect(state.planningRates() == [[150, 300], [1]], "solo declares nothing: the minimum")
        let det = try #require(state.current?.plan.session(id: state.assignment.stages[0].sessionID))
        #expect(det.demandRatePerSecond == 150)

        // A workload's declared rates win over the applications' own.
        let declared = SchedulerState(applications: applications, planner: epochPlanner, declaredStageRates: [[10, 20], [5]])
        #expect(declared.planningRates() == [[10, 20], [5]])
    }

    @Test func aRiseWaitsOneBeaconAfterTheLastPlan() throws {
        var state = makeState()
        let a = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0))
        state.report(counts: [("solo/cls", 1000)])
        // One second after the plan: the rate is folded in, but a plan must wait for the rise interval.
        #expect(state.heartbeat(nodeID: a, utilization: 0, nowNs: Self.second) == true)
        #expect(try state.beacon(nowNs: Self.second) == false)
        #expect(state.planningRates()[1][0] == 500)
        #expect(state.planCount == 1)
        #expect(state.heartbeat(nodeID: a, utilization: 0, nowNs: 2 * Self.second) == true)
        #expect(try state.beacon(nowNs: 2 * Self.second))
        #expect(state.lastPlanReason.contains("rate"))
        #expect(state.planCount == 2)
    }

    // MARK: (6) unregister, unknown nodes

    @Test func unregisteringABackendPlansAgainAndUnknownNodesAreRefused() throws {
        var state = makeState()
        let a = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        let b = state.register(kind: .backend, address: "b:1", device: "cuda:1", runtime: "torch", nowNs: 0)
        let frontend = state.register(kind: .frontend, address: "fe:1", device: "cpu", runtime: "torch", nowNs: 0)
        #expect(Set([a, b, frontend]).count == 3)
        #expect(try state.update(nowNs: 0))
        expectEveryStageRouted(state, to: [a])
        let version = state.assignment.version

        #expect(state.unregister(nodeID: frontend) == true)
        #expect(try state.update(nowNs: Self.second) == false, "a frontend leaving is no reason to plan")

        #expect(state.unregister(nodeID: a) == true)
        #expect(state.unregister(nodeID: a) == false)
        #expect(try state.update(nowNs: Self.second))
        #expect(state.lastPlanReason.contains("left"))
        #expect(state.assignment.version == version + 1)
        expectEveryStageRouted(state, to: [b])
        #expect(state.assignment.tables.keys.sorted() == [b])

        #expect(state.heartbeat(nodeID: a, utilization: 0, nowNs: 2 * Self.second) == false)
        #expect(state.heartbeat(nodeID: 999, utilization: 0, nowNs: 2 * Self.second) == false)
        #expect(state.unregister(nodeID: 999) == false)

        // The last backend leaving: stages lose their sessions.
        #expect(state.unregister(nodeID: b) == true)
        #expect(try state.update(nowNs: 3 * Self.second))
        #expect(state.assignment.routes.isEmpty && state.assignment.tables.isEmpty)
        #expect(state.assignment.stages.allSatisfy { $0.sessionID.isEmpty })
        // Ids are not reused.
        let c = state.register(kind: .backend, address: "c:1", device: "cuda:0", runtime: "torch", nowNs: 4 * Self.second)
        #expect(![a, b, frontend].contains(c))
        #expect(try state.update(nowNs: 4 * Self.second))
        expectEveryStageRouted(state, to: [c])
    }

    // MARK: (7) stability

    /// About 900 det and 3600 cls calls per second in all: more than one backend carries.
    static let heavyLoad: [(stage: String, requests: Int)] = [("chain/det", 1800), ("chain/cls", 3600), ("solo/cls", 3600)]

    @Test func placementsStayPutUnderAStableLoad() throws {
        var state = makeState()
        let a = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        let b = state.register(kind: .backend, address: "b:1", device: "cuda:1", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0))
        var t: Int64 = 0
        func tick() throws -> Bool {
            t += 2
            state.report(counts: Self.heavyLoad)
            #expect(state.heartbeat(nodeID: a, utilization: 0.5, nowNs: t * Self.second) == true)
            #expect(state.heartbeat(nodeID: b, utilization: 0.5, nowNs: t * Self.second) == true)
            return try state.beacon(nowNs: t * Self.second)
        }
        // The first beacons measure the load and plan for it.
        for _ in 0..<3 { _ = try tick() }
        try #require(state.current?.plan.gpus == 2)
        #expect(!tableSessions(state, a).isEmpty && !tableSessions(state, b).isEmpty)
        let settled = state.assignment
        let backendNodes = state.backendNodes
        let plans = state.planCount

        // A minute more of the same load, two epochs included: plans may run, the assignment does not move.
        for _ in 0..<30 {
            #expect(try tick() == false, "t = \(t) s: \(state.lastPlanReason)")
        }
        #expect(state.planCount > plans, "the epoch trigger planned again")
        #expect(state.lastPlanReason == "epoch")
        #expect(state.assignment == settled)
        #expect(state.backendNodes == backendNodes)
    }
}

@Suite struct SchedulerStateFailureTests {
    let base = SchedulerStateTests()

    @Test func anUnreachableBackendIsPlannedAwayAtOnceAndMayRegisterAgain() throws {
        var state = base.makeState()
        let a = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        let b = state.register(kind: .backend, address: "b:1", device: "cuda:1", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0))
        let removed = state.declareUnreachable(nodeID: a, reason: "connection refused")
        let removedTwice = state.declareUnreachable(nodeID: a, reason: "again")
        #expect(removed && !removedTwice)
        #expect(try state.update(nowNs: 1_000))
        #expect(state.lastPlanCause == .backendUnreachable(nodeID: a, reason: "connection refused"))
        #expect(state.lastPlanCause?.kind == "backend_unreachable")
        base.expectEveryStageRouted(state, to: [b])
        let known = state.heartbeat(nodeID: a, utilization: 0, nowNs: 2_000)
        #expect(!known, "it must register again")
        let again = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 2_000)
        #expect(try state.update(nowNs: 2_000))
        #expect(state.liveBackends.map(\.id) == [b, again])
    }

    @Test func overdueNodesAreTheOnesTheBeaconWouldDeclareDead() throws {
        var state = base.makeState()
        let a = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        let b = state.register(kind: .backend, address: "b:1", device: "cuda:1", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0))
        let second = SchedulerStateTests.second
        let beat = state.heartbeat(nodeID: b, utilization: 0, nowNs: 6 * second)
        #expect(beat)
        #expect(state.overdueNodes(nowNs: 6 * second).isEmpty, "6 s is exactly 3 beacons: not yet")
        #expect(state.overdueNodes(nowNs: 7 * second).map(\.id) == [a])
        // A driver that reached `a` by probe beats for it: then nobody is declared dead.
        let probed = state.heartbeat(nodeID: a, utilization: 0, nowNs: 7 * second)
        #expect(probed)
        _ = try state.beacon(nowNs: 7 * second)
        #expect(Set(state.liveBackends.map(\.id)) == [a, b])
    }
}

@Suite struct SchedulerStateSuddenRiseTests {
    let base = SchedulerStateTests()
    let millisecond: Int64 = 1_000_000

    /// A cold start: planned for the minimum rate, then 300 calls in 300 ms. The next report plans for what
    /// runs now instead of waiting up to a beacon and the rise interval.
    @Test func aColdStartIsPlannedForAtTheReportThatShowsIt() throws {
        var state = base.makeState()
        _ = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0))
        let before = try #require(state.current).plan.sessions.first { $0.members.contains("solo/cls") }
        #expect(before?.demandRatePerSecond == 1)
        state.report(counts: [("solo/cls", 10)])
        let early = try state.checkSuddenRise(nowNs: 100 * millisecond)
        #expect(!early, "under 250 ms of calls is too little to judge")
        state.report(counts: [("solo/cls", 290)])
        let planned = try state.checkSuddenRise(nowNs: 300 * millisecond)
        #expect(planned)
        #expect(state.lastPlanCause?.kind == "rate")
        let after = try #require(state.current).plan.sessions.first { $0.members.contains("solo/cls") }
        #expect(abs((after?.demandRatePerSecond ?? 0) - 1000) < 1e-6, "300 calls in 0.3 s")
        // The same calls do not plan again.
        let again = try state.checkSuddenRise(nowNs: 600 * millisecond)
        #expect(!again)
    }

    @Test func aRiseUnderTwiceThePlanWaitsForTheBeacon() throws {
        var state = base.makeState()
        _ = state.register(kind: .backend, address: "a:1", device: "cuda:0", runtime: "torch", nowNs: 0)
        #expect(try state.update(nowNs: 0))
        state.report(counts: [("solo/cls", 1000)])
        _ = try state.beacon(nowNs: 2_000 * millisecond)
        let planned = try #require(state.current).plan.sessions.first { $0.members.contains("solo/cls") }?.demandRatePerSecond ?? 0
        #expect(planned == 500)
        state.report(counts: [("solo/cls", 250)])   // 1.67 x the plan over 300 ms
        let sudden = try state.checkSuddenRise(nowNs: 2_300 * millisecond)
        #expect(!sudden)
    }
}
