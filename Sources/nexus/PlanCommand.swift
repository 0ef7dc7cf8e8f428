import ArgumentParser
import Foundation
import NexusConfig
import NexusCore

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the plan for a workload: sessions, the latency split, backends with batches and duty cycles.",
        discussion: "The JSON format is documented in README.md (\"nexus plan --json\")."
    )

    @OptionGroup var workloadOptions: WorkloadOptions
    @OptionGroup var planning: PlanningOptions

    @Option(name: .long, help: "Plan the phase in force at this time (seconds from the workload's start).")
    var atSeconds: Double?

    @Option(name: .long, help: "Plan this phase (name or index); overrides --at-seconds.")
    var phase: String?

    @Option(name: .long, help: "Cluster size: if the plan needs more GPUs, carry the largest common fraction of every session's rate that fits (0 or absent: no limit).")
    var gpus: Int?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        if let atSeconds, !(atSeconds >= 0) { throw ValidationError("--at-seconds must be >= 0, got \(atSeconds)") }
        if let gpus, gpus < 0 { throw ValidationError("--gpus must be >= 0, got \(gpus)") }
    }

    func run() throws {
        let report = try reportingErrors { () throws -> PlanReport in
            let loaded = try workloadOptions.load()
            let workload = loaded.workload
            var phaseIndex = workload.phaseIndex(atSeconds: atSeconds ?? 0)
            if let phase { phaseIndex = try workloadOptions.phaseIndex(phase, in: loaded) }
            let traffic = workload.traffic(phaseIndex: phaseIndex, totalRatePerSecond: workloadOptions.rate)
            let result = try planning.epochPlanner(for: loaded, workloadOptions: workloadOptions).plan(
                applications: workload.applications, stageRates: traffic.stageRates, maxBackends: gpus.flatMap { $0 > 0 ? $0 : nil })
            return PlanReport(workload: workload, traffic: traffic, result: result, sloScale: workloadOptions.sloScale)
        }
        if json {
            print(try JSONOutput.string(report))
        } else {
            print(PlanTable.render(report))
        }
    }
}
