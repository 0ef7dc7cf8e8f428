import ArgumentParser
import NexusConfig
import NexusCore
import NexusSimulator

/// Options shared by every command that reads a workload.
struct WorkloadOptions: ParsableArguments {
    @Option(name: .long, help: "Workload file (see data/workloads/README.md).")
    var workload: String

    @Option(name: .long, help: "Total client requests per second (overrides the workload's totalRatePerSecond).")
    var rate: Double?

    @Option(name: .long, help: "Profile column the planner uses: graph_p99_ms, graph_median_ms or eager_median_ms (default: the workload's, else graph_p99_ms).")
    var profileColumn: String?

    @Option(name: .long, help: "Multiply every application's latency SLO by this factor.")
    var sloScale: Double = 1

    @Option(name: .long, help: "Memory of one GPU in MB (default: the workload's gpuMemoryMB, else 81559, an 80 GB H100).")
    var gpuMemoryMB: Double?

    func validate() throws {
        if let rate, !(rate >= 0 && rate.isFinite) { throw ValidationError("--rate must be >= 0, got \(rate)") }
        guard sloScale > 0, sloScale.isFinite else { throw ValidationError("--slo-scale must be > 0, got \(sloScale)") }
        if let gpuMemoryMB, !(gpuMemoryMB > 0) { throw ValidationError("--gpu-memory-mb must be > 0, got \(gpuMemoryMB)") }
    }

    func load() throws -> LoadedWorkload {
        try WorkloadLoader.load(path: workload, profileColumn: profileColumn.map(ProfileColumn.init))
    }

    /// A phase by name or index, with an error that lists the phases.
    func phaseIndex(_ name: String, in loaded: LoadedWorkload) throws -> Int {
        guard let index = loaded.workload.phaseIndex(named: name) else {
            let phases = (loaded.workload.phases ?? []).enumerated().map { "\($0.offset)\($0.element.name.map { " (\($0))" } ?? "")" }
            throw InputError(description: "--phase: '\(name)' is not a phase of \(loaded.path) (phases: \(phases.isEmpty ? "none" : phases.joined(separator: ", ")))")
        }
        return index
    }

    func memoryMB(for loaded: LoadedWorkload) -> Double {
        gpuMemoryMB ?? loaded.workload.gpuMemoryMB ?? PlannerConfig().gpuMemoryMB
    }
}

/// How `nexus plan` plans (the simulator's policies fix these themselves).
struct PlanningOptions: ParsableArguments {
    @Option(name: .long, help: "Plan capacity for (1 + headroom) x the rate, e.g. 0.05.")
    var headroom: Double = 0

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
        let config = PlannerConfig(gpuMemoryMB: workloadOptions.memoryMB(for: loaded), rateHeadroom: headroom,
                                   consolidate: !noConsolidate)
        let builder = SessionBuilder(
            curves: loaded.curves, overheadMs: loaded.workload.overheadMs, gpuMemoryMB: config.gpuMemoryMB,
            splitMode: split == .even ? .even : .optimal(steps: splitSteps), prefixBatching: !noPrefix,
            sloScale: workloadOptions.sloScale)
        return EpochPlanner(builder: builder, planner: Planner(config: config))
    }
}

/// A bad input file or value found while running: printed as `Error: <message>`, exit status 1.
struct InputError: Error, CustomStringConvertible {
    var description: String
}

/// Runs `body`, turning our typed errors into a one-line message instead of a trace.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as WorkloadError {
        throw InputError(description: error.description)
    } catch let error as ProfileError {
        throw InputError(description: error.description)
    } catch let error as ConfigError {
        throw InputError(description: error.description)
    } catch let error as SimulationError {
        throw InputError(description: error.description)
    }
}
