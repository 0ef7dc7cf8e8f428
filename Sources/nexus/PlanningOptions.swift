import ArgumentParser
import NexusConfig
import NexusCore

/// How `nexus plan` plans: `PlanningSettings`, with its defaults (the simulator's policies fix the split and
/// prefix batching themselves).
struct PlanningOptions: ParsableArguments {
    @Option(name: .long, help: "Plan capacity for (1 + headroom) x the rate (0 shows pure packing quality).")
    var headroom: Double = PlanningSettings().rateHeadroom

    @Option(name: .long, help: "How an application's SLO is split over its stages: optimal (DESIGN.md §3.3) or even.")
    var split: SplitChoice = .optimal

    @Option(name: .long, help: "Time steps of the optimal latency split.")
    var splitSteps: Int = 100

    @Flag(name: .long, help: "Plan prefix-group members as separate models (no prefix batching).")
    var noPrefix = false

    @Flag(name: .long, help: "Skip step 5 of the planner (consolidation).")
    var noConsolidate = false

    enum SplitChoice: String, ExpressibleByArgument, CaseIterable { case optimal, even }

    func validate() throws {
        guard headroom >= 0, headroom <= 10 else { throw ValidationError("--headroom must be in 0...10, got \(headroom)") }
        guard (1...10_000).contains(splitSteps) else { throw ValidationError("--split-steps must be in 1...10000, got \(splitSteps)") }
    }

    func epochPlanner(for loaded: LoadedWorkload, workloadOptions: WorkloadOptions) -> EpochPlanner {
        var settings = PlanningSettings()
        settings.gpuMemoryMB = workloadOptions.memoryMB(for: loaded)
        settings.rateHeadroom = headroom
        settings.consolidate = !noConsolidate
        settings.split = split == .even ? .even : .optimal(steps: splitSteps)
        settings.prefixBatching = !noPrefix
        settings.sloScale = workloadOptions.sloScale
        return settings.epochPlanner(curves: loaded.curves, overheadMs: loaded.workload.overheadMs)
    }
}
