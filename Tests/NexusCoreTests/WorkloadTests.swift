import NexusTestSupport
import Testing
@testable import NexusCore

@Suite struct WorkloadValidationTests {
    func workload(_ apps: [ApplicationSpec], phases: [PhaseSpec]? = nil) -> Workload {
        Workload(name: "w", profiles: "p.csv", totalRatePerSecond: 100, applications: apps, phases: phases)
    }

    let chain = ApplicationSpec(name: "traffic", latencySLOMs: 60, rateShare: 1, stages: [
        StageSpec(name: "detect", model: "ssd"),
        StageSpec(name: "car", model: "googlenet", parent: "detect", gamma: 1.5),
    ])

    func message(_ workload: Workload) -> String {
        do {
            try workload.validate(source: "w.yaml")
            return "valid"
        } catch { return "\(error)" }
    }

    @Test func aGoodWorkloadIsValid() {
        #expect(message(workload([chain], phases: [PhaseSpec(atSeconds: 0, scale: ["traffic": 2], gamma: ["car": 3])])) == "valid")
    }

    @Test func errorsNameTheKeyAndTheLimit() {
        var badParent = chain
        badParent.stages[1].parent = "detector"
        #expect(message(workload([badParent])) == "w.yaml: applications[0].stages[1].parent: 'detector' is not a stage of 'traffic' (stages: detect, car)")
        var negativeGamma = chain
        negativeGamma.stages[1].gamma = -1
        #expect(message(workload([negativeGamma])) == "w.yaml: applications[0].stages[1].gamma: must be >= 0, got -1.0")
        var zeroSLO = chain
        zeroSLO.latencySLOMs = 0
        #expect(message(workload([zeroSLO])) == "w.yaml: applications[0].latencySLOMs: must be > 0, got 0.0")
        #expect(message(workload([chain, chain])) == "w.yaml: applications[1].name: 'traffic' is used by an earlier application")
        #expect(message(workload([])) == "w.yaml: applications: must list at least one application")
    }

    @Test func aCycleOfParentsIsRejected() {
        let cyclic = ApplicationSpec(name: "loop", latencySLOMs: 10, rateShare: 1, stages: [
            StageSpec(name: "a", model: "m", parent: "b"), StageSpec(name: "b", model: "m", parent: "a"),
        ])
        #expect(message(workload([cyclic])).hasPrefix("w.yaml: applications[0].stages: parents form a cycle"))
    }

    @Test func phasesMustNameKnownAppsAndStagesInTimeOrder() {
        #expect(message(workload([chain], phases: [PhaseSpec(atSeconds: 0, scale: ["trafic": 2])])).hasPrefix("w.yaml: phases[0].scale.trafic: is neither an application nor a group"))
        #expect(message(workload([chain], phases: [PhaseSpec(atSeconds: 0, gamma: ["bus": 2])])) == "w.yaml: phases[0].gamma.bus: names no stage (use a stage name or app/stage)")
        #expect(message(workload([chain], phases: [PhaseSpec(atSeconds: 10), PhaseSpec(atSeconds: 5)])) == "w.yaml: phases[1].atSeconds: 5 must be after the previous phase's 10")
    }

    @Test func aPrefixGroupSharesOneBaseModel() {
        let app = ApplicationSpec(name: "g", latencySLOMs: 8, rateShare: 1, stages: [
            StageSpec(name: "a", model: "resnet50", prefixGroup: "r", head: "x"),
            StageSpec(name: "b", model: "resnet18", prefixGroup: "r", head: "y"),
        ])
        #expect(message(workload([app])) == "w.yaml: applications[0].stages[1].model: prefix group 'r' shares the layers of 'resnet50', not 'resnet18'")
    }
}

@Suite struct TrafficTests {
    let workload = Workload(
        name: "w", profiles: "p.csv", totalRatePerSecond: 1000,
        applications: [
            ApplicationSpec(name: "traffic", latencySLOMs: 60, rateShare: 0.6, stages: [
                StageSpec(name: "detect", model: "ssd"),
                StageSpec(name: "car", model: "googlenet", parent: "detect", gamma: 1.5),
            ]),
            ApplicationSpec(name: "game", group: "games", latencySLOMs: 8, rateShare: 0.4, stages: [
                StageSpec(name: "digits", model: "resnet18", gamma: 6),
            ]),
        ],
        phases: [
            PhaseSpec(atSeconds: 0, name: "normal"),
            PhaseSpec(atSeconds: 300, name: "rush", scale: ["games": 2], gamma: ["car": 4]),
        ])

    @Test func ratesFollowSharesGammasAndThePhaseInForce() {
        let normal = workload.traffic(atSeconds: 10)
        #expect(normal.phaseName == "normal")
        #expect(normal.applicationRates == [600, 400])
        #expect(normal.stageRates == [[600, 900], [2400]])
        let rush = workload.traffic(atSeconds: 300)
        #expect(rush.phaseName == "rush")
        #expect(rush.applicationRates == [600, 800])
        #expect(rush.stageRates == [[600, 2400], [4800]])
        #expect(workload.traffic(phaseIndex: 1, totalRatePerSecond: 2000).applicationRates == [1200, 1600])
        #expect(workload.phaseIndex(named: "rush") == 1)
        #expect(workload.phaseIndex(named: "0") == 0)
        #expect(workload.phaseIndex(named: "none") == nil)
    }
}

@Suite struct SessionBuilderTests {
    var curves: ModelCurves {
        let table = ProfileTable(source: "test", column: .graphP99, profiles: [
            try! ModelProfile(model: "resnet50", points: [1, 128].map { ProfilePoint(batch: $0, planningLatencyMs: 0.9 + 0.07 * Double($0)) }),
            try! ModelProfile(model: "resnet18", points: [1, 128].map { ProfilePoint(batch: $0, planningLatencyMs: 0.36 + 0.021 * Double($0)) }),
        ])
        return ModelCurves(table: table)
    }

    func games(_ count: Int) -> [ApplicationSpec] {
        (1...count).map { i in
            ApplicationSpec(name: "game-\(i)", latencySLOMs: 8, rateShare: 1, stages: [
                StageSpec(name: "recognise", model: "resnet50", prefixGroup: "resnet50", head: "game-\(i)"),
                StageSpec(name: "digits", model: "resnet18", gamma: 6),
            ])
        }
    }

    @Test func aPrefixGroupIsOneSessionWithTheSumOfItsMembersRates() throws {
        let builder = SessionBuilder(curves: curves, overheadMs: 0.5)
        let sessions = try builder.build(applications: games(3), stageRates: [[100, 600], [200, 1200], [300, 1800]])
        #expect(sessions.demands.map(\.id) == ["prefix:resnet50@8ms", "resnet18@8ms"])
        let prefix = sessions.demands[0]
        #expect(prefix.ratePerSecond == 600)
        #expect(prefix.prefixGroup == "resnet50")
        #expect(prefix.members == ["game-1/recognise", "game-2/recognise", "game-3/recognise"])
        #expect(prefix.gpuBudgetMs == 7.5)
        #expect(sessions.demands[1].ratePerSecond == 3600)
        #expect(sessions.stageSessionIDs[2] == ["prefix:resnet50@8ms", "resnet18@8ms"])
    }

    @Test func withoutPrefixBatchingEachHeadIsItsOwnModel() throws {
        let builder = SessionBuilder(curves: curves, overheadMs: 0.5, prefixBatching: false)
        let sessions = try builder.build(applications: games(2), stageRates: [[100, 600], [200, 1200]])
        #expect(sessions.demands.map(\.id) == ["resnet18@8ms", "resnet50/game-1@8ms", "resnet50/game-2@8ms"])
        #expect(sessions.demands.map(\.ratePerSecond) == [1800, 100, 200])
    }

    @Test func aPrefixGroupIsOneSessionEvenWhenItsMembersBudgetsDiffer() throws {
        // A root in one application (the whole 20 ms) and a child in another (what the split leaves it).
        let apps = [
            ApplicationSpec(name: "solo", latencySLOMs: 20, rateShare: 1, stages: [
                StageSpec(name: "r", model: "resnet50", prefixGroup: "r50", head: "x"),
            ]),
            ApplicationSpec(name: "chain", latencySLOMs: 20, rateShare: 1, stages: [
                StageSpec(name: "first", model: "resnet18"),
                StageSpec(name: "r", model: "resnet50", parent: "first", prefixGroup: "r50", head: "y"),
            ]),
        ]
        let sessions = try SessionBuilder(curves: curves, overheadMs: 0.5).build(applications: apps, stageRates: [[2000], [1000, 2000]])
        let groups = sessions.demands.filter { $0.prefixGroup == "r50" }
        #expect(groups.count == 1)
        #expect(groups[0].ratePerSecond == 4000)
        #expect(groups[0].members == ["solo/r", "chain/r"])
        // Planned for the tightest member's budget.
        #expect(groups[0].latencySLOMs == min(sessions.stageBudgetsMs[0][0], sessions.stageBudgetsMs[1][1]))
        #expect(sessions.stageBudgetsMs[1][1] < 20)
        #expect(sessions.stageSessionIDs[0][0] == sessions.stageSessionIDs[1][1])
    }

    @Test func lastEpochsBudgetsStayUnlessTheNewSplitIsClearlyBetter() throws {
        let chain = [ApplicationSpec(name: "chain", latencySLOMs: 20, rateShare: 1, stages: [
            StageSpec(name: "first", model: "resnet18"), StageSpec(name: "second", model: "resnet50", parent: "first"),
        ])]
        let builder = SessionBuilder(curves: curves, overheadMs: 0.5)
        let first = try builder.build(applications: chain, stageRates: [[1000, 1000]])
        // Far more calls of the second stage: the best split gives it more time.
        let moved = try builder.build(applications: chain, stageRates: [[1000, 20_000]])
        #expect(moved.stageBudgetsMs != first.stageBudgetsMs)
        // Following last epoch: a large change wins over the old budgets; a tiny one does not.
        #expect(try builder.build(applications: chain, stageRates: [[1000, 20_000]], previous: first).stageBudgetsMs == moved.stageBudgetsMs)
        var sticky = builder
        sticky.splitHysteresis = 10
        #expect(try sticky.build(applications: chain, stageRates: [[1000, 20_000]], previous: first).stageBudgetsMs == first.stageBudgetsMs)
        #expect(try builder.build(applications: chain, stageRates: [[1010, 1010]], previous: first).stageBudgetsMs == first.stageBudgetsMs)
    }

    @Test func anUnknownModelIsAnErrorNamingIt() {
        let app = ApplicationSpec(name: "x", latencySLOMs: 8, rateShare: 1, stages: [StageSpec(name: "s", model: "vgg")])
        #expect(throws: ProfileError.unknownModel(model: "vgg", source: "test", known: ["resnet18", "resnet50"])) {
            try SessionBuilder(curves: curves, overheadMs: 0).build(applications: [app], stageRates: [[1]])
        }
    }

    @Test func anApplicationNoSplitCanServeFallsBackToEvenAndIsFlagged() throws {
        let app = ApplicationSpec(name: "tight", latencySLOMs: 1, rateShare: 1, stages: [StageSpec(name: "s", model: "resnet50")])
        let sessions = try SessionBuilder(curves: curves, overheadMs: 0).build(applications: [app], stageRates: [[10]])
        #expect(sessions.unsplittable == ["tight"])
        let plan = Planner().plan(sessions.demands)
        #expect(plan.infeasible.map(\.id) == ["resnet50@1ms"])
    }
}
