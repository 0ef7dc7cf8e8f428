import NexusCore
@testable import NexusSimulator
import Testing

/// The scheduler's state driven in virtual time through `mixed`'s six phases as the simulator drives it: a
/// frontend and 100 backends register, every beacon the frontend reports each stage's calls and every node
/// beats. Its plans are pinned per phase, and must equal those of the planning loop the simulator ran before
/// it drove the scheduler (kept below as the reference: an EWMA per stage, the epoch trigger, and
/// `plan(previous: current, maxBackends: 100)`).
@Suite struct SchedulerReplayTests {
    static let beaconNs: Int64 = 2_000_000_000
    /// Each phase held this long: long enough for a rise and a fall to be re-planned.
    static let phaseNs: Int64 = 24_000_000_000

    struct PlanRecord: Equatable, CustomStringConvertible {
        var atSeconds: Double
        var gpus: Int
        var sessions: Int
        /// Lower bound of the planned demand, to 1e-6 GPUs.
        var lowerBoundMicroGPUs: Int
        var description: String { "(\(atSeconds) s: \(gpus) GPUs, \(sessions) sessions, LB \(lowerBoundMicroGPUs))" }

        init(atNs: Int64, plan: Plan) {
            atSeconds = Double(atNs) / 1e9
            gpus = plan.gpus
            sessions = plan.sessions.count
            lowerBoundMicroGPUs = Int((plan.demandLowerBoundGPUs * 1e6).rounded())
        }
    }

    /// Calls each stage sees in one beacon of phase `phase`, flattened in application, stage order.
    static func counts(_ workload: Workload, phase: Int) -> [Int] {
        workload.traffic(phaseIndex: phase).stageRates.flatMap { $0 }.map { Int(($0 * Double(beaconNs) / 1e9).rounded()) }
    }

    @Test func mixedIsPlannedAsBeforeAndAsPinned() throws {
        let loaded = try load("mixed")
        let workload = loaded.workload
        let planner = SimulationPolicy.nexus.planning(PlanningSettings(), curves: loaded.curves, overheadMs: workload.overheadMs)
        let phases = workload.phases?.count ?? 0
        #expect(phases == 6)
        let state = try driveSchedulerState(workload, planner: planner, phases: phases)
        let reference = try referenceLoop(workload, planner: planner, phases: phases)
        #expect(state == reference)
        // The plan in force at the end of each phase.
        let endOfPhase = (0..<phases).map { phase in
            state.last { $0.atSeconds < Double(Int64(phase + 1) * Self.phaseNs) / 1e9 }.map { "\($0.gpus)/\($0.sessions)" } ?? ""
        }
        #expect(endOfPhase == Self.pinnedEndOfPhase, "\(state)")
        #expect(state.count == Self.pinnedPlanCount, "\(state)")
    }

    /// GPUs / sessions of the plan in force at the end of each phase, as the reference loop planned them.
    static let pinnedEndOfPhase = ["84/13", "89/13", "80/13", "74/13", "87/13", "95/13"]
    /// The start, then one plan per phase change that leaves the band (and one more fall after 10 s).
    static let pinnedPlanCount = 9

    /// `SchedulerState` fed register, report, heartbeat and beacon events, as `SimulationEngine` feeds it.
    func driveSchedulerState(_ workload: Workload, planner: any ClusterPlanning, phases: Int) throws -> [PlanRecord] {
        let applications = workload.applications.map { ServedApplication(spec: $0, childInputs: $0.stages.map { _ in .same }) }
        var state = SchedulerState(applications: applications, planner: planner,
                                   declaredStageRates: workload.traffic(phaseIndex: 0).stageRates)
        let frontend = state.register(kind: .frontend, address: "fe", device: "cpu", runtime: "simulated", nowNs: 0)
        let backends = (0..<100).map { state.register(kind: .backend, address: "gpu-\($0)", device: "simulated", runtime: "simulated", nowNs: 0) }
        _ = try state.replan(nowNs: 0, cause: .start)
        var records = [PlanRecord(atNs: 0, plan: try #require(state.current).plan)]
        var nowNs: Int64 = 0
        for phase in 0..<phases {
            let counts = Self.counts(workload, phase: phase)
            while nowNs + Self.beaconNs <= Int64(phase + 1) * Self.phaseNs {
                nowNs += Self.beaconNs
                var flat = 0
                for (a, app) in workload.applications.enumerated() {
                    for s in app.stages.indices {
                        state.report(application: a, stage: s, requests: counts[flat])
                        flat += 1
                    }
                }
                for node in [frontend] + backends { _ = state.heartbeat(nodeID: node, utilization: 0, nowNs: nowNs) }
                let plans = state.planCount
                _ = try state.beacon(nowNs: nowNs)
                if state.planCount != plans { records.append(PlanRecord(atNs: nowNs, plan: try #require(state.current).plan)) }
            }
        }
        return records
    }

    /// The simulator's own planning loop before it drove `SchedulerState`, kept as the reference.
    func referenceLoop(_ workload: Workload, planner: any ClusterPlanning, phases: Int) throws -> [PlanRecord] {
        let applications = workload.applications.map(\.self)
        let trigger = EpochTrigger()
        var keys: [String] = []
        for app in applications { for stage in app.stages { keys.append("\(app.name)/\(stage.name)") } }
        var rates = workload.traffic(phaseIndex: 0).stageRates.flatMap { $0 }.map {
            EWMARateEstimator(timeConstantNs: 10_000_000_000, fastRise: true, initialRatePerSecond: $0)
        }
        func stageRates() -> [[Double]] {
            var flat = 0
            return applications.map { app in app.stages.map { _ in defer { flat += 1 }; return rates[flat].ratePerSecond ?? 0 } }
        }
        var current = try planner.plan(applications: applications, stageRates: stageRates(), previous: nil, maxBackends: 100)
        var lastPlanNs: Int64 = 0
        var records = [PlanRecord(atNs: 0, plan: current.plan)]
        var nowNs: Int64 = 0
        for phase in 0..<phases {
            let counts = Self.counts(workload, phase: phase)
            while nowNs + Self.beaconNs <= Int64(phase + 1) * Self.phaseNs {
                nowNs += Self.beaconNs
                for index in rates.indices { rates[index].record(count: counts[index], intervalNs: Self.beaconNs) }
                let byKey = Dictionary(uniqueKeysWithValues: zip(keys, rates.map { $0.ratePerSecond ?? 0 }))
                let sessionRates = current.plan.sessions.map { session in
                    (measuredPerSecond: session.members.reduce(0) { $0 + (byKey[$1] ?? 0) }, plannedPerSecond: session.demandRatePerSecond)
                }
                guard trigger.replanReason(nowNs: nowNs, lastPlanNs: lastPlanNs, rates: sessionRates) != nil else { continue }
                current = try planner.plan(applications: applications, stageRates: stageRates(), previous: current, maxBackends: 100)
                lastPlanNs = nowNs
                records.append(PlanRecord(atNs: nowNs, plan: current.plan))
            }
        }
        return records
    }
}
