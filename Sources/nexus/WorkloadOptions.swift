import ArgumentParser
import NexusConfig
import NexusCore

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

    @Option(name: .long, help: "Multiply every profile latency, SLO and network cost by K and divide rates by K (as nexus serve and nexus bench --time-scale do).")
    var timeScale: Double = 1

    func validate() throws {
        if let rate, !(rate >= 0 && rate.isFinite) { throw ValidationError("--rate must be >= 0, got \(rate)") }
        guard sloScale > 0, sloScale.isFinite else { throw ValidationError("--slo-scale must be > 0, got \(sloScale)") }
        if let gpuMemoryMB, !(gpuMemoryMB > 0) { throw ValidationError("--gpu-memory-mb must be > 0, got \(gpuMemoryMB)") }
        guard timeScale > 0, timeScale <= 10_000, timeScale.isFinite else { throw ValidationError("--time-scale must be in (0, 10000], got \(timeScale)") }
    }

    func load() throws -> LoadedWorkload {
        try WorkloadLoader.load(path: workload, profileColumn: profileColumn.map(ProfileColumn.init)).scaled(TimeScale(timeScale))
    }

    /// A phase by name or index, with an error that lists the phases.
    func phaseIndex(_ name: String, in loaded: LoadedWorkload) throws -> Int {
        do { return try loaded.phaseIndex(named: name) } catch { throw InputError(description: "\(error)") }
    }

    func memoryMB(for loaded: LoadedWorkload) -> Double {
        gpuMemoryMB ?? loaded.workload.gpuMemoryMB ?? PlanningSettings().gpuMemoryMB
    }
}
