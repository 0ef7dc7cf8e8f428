import ArgumentParser
import NexusConfig
import NexusCore

/// A simulator study run on the real servers: `nexus serve --workload` serves it, `nexus bench --workload` loads
/// it; the same file, phase and time scale on both sides (and `nexus simulate --time-scale` for the comparison).
struct StudyFlags: ParsableArguments {
    @Option(name: .long, help: "A workload file (data/workloads/): with serve, its applications on --backends SIMULATED backends instead of --repo; with bench, each application its share of the rate instead of --app.")
    var workload: String?

    @Option(name: .long, help: "With --workload: the phase (name or index) whose gammas and rate shares to use (default: the first).")
    var phase: String?

    @Option(name: .long, help: "With --workload: multiply every profile latency, SLO and network cost by K and divide rates by K (the same K for serve, bench and simulate).")
    var timeScale: Double = 1

    func validate() throws {
        if workload == nil, phase != nil || timeScale != 1 { throw ValidationError("--phase and --time-scale go with --workload") }
        guard timeScale > 0, timeScale <= 10_000, timeScale.isFinite else {
            throw ValidationError("--time-scale must be in (0, 10000], got \(timeScale)")
        }
    }

    /// The workload time-scaled, and the phase chosen; nil without --workload.
    func load() throws -> (loaded: LoadedWorkload, phaseIndex: Int?)? {
        guard let workload else { return nil }
        let loaded = try WorkloadLoader.load(path: workload)
        let phaseIndex = try phase.map { try loaded.phaseIndex(named: $0) }
        return (loaded.scaled(TimeScale(timeScale)), phaseIndex)
    }
}
