import ArgumentParser
import Logging
import NexusConfig
import NexusCore
import NexusRuntime
import NexusServer

/// What `nexus scheduler` and `nexus serve` share: the applications, the profiles they are planned with,
/// and the planner.
struct SchedulerFlags: ParsableArguments {
    @Option(name: .long, help: "Folder of application YAML files (docs/applications.md). Default: one application per model of --repo, named after it.")
    var apps: String?

    @Option(name: .long, help: "SLO of the default one-model applications (ms), when --apps is not given.")
    var defaultSloMs: Double = 200

    @Option(name: .long, help: "Profile the planner reads: <repo>/<model>/profiles/<NAME>.csv (nexus profile writes cpu or cuda).")
    var profile: String?

    @Option(name: .long, help: "Beacon interval (ms): heartbeats, workload reports; a node silent for 3 beacons is dead.")
    var beaconMs: Int = 2000

    @Option(name: .long, help: "Epoch (s): the longest time between plans (DESIGN.md §1).")
    var epochS: Double = 30

    @Option(name: .long, help: "Network and pre/post-processing per model call (ms), taken out of each stage's budget.")
    var overheadMs: Double = 1

    @Option(name: .long, help: "Memory of one device (MB) the planner packs models into.")
    var gpuMemoryMb: Double = PlanningSettings().gpuMemoryMB

    @Option(name: .long, help: "Plan capacity for (1 + headroom) x the measured rate (the simulator's default too).")
    var headroom: Double = PlanningSettings().rateHeadroom

    @Option(name: .long, help: "nexus, or nexus-next: plan every session above its rate while the cluster has spare backends, and (serve) let backends grow batches into their duty cycle's slack (DESIGN.md §5.4).")
    var policy: ServingPolicy = .nexus

    func validate() throws {
        guard (10...600_000).contains(beaconMs) else { throw ValidationError("--beacon-ms must be in 10...600000, got \(beaconMs)") }
        guard epochS.isFinite, epochS * 1000 >= Double(beaconMs) else { throw ValidationError("--epoch-s must be at least one beacon, got \(epochS)") }
        guard defaultSloMs.isFinite, defaultSloMs > 0 else { throw ValidationError("--default-slo-ms must be > 0, got \(defaultSloMs)") }
        guard overheadMs.isFinite, overheadMs >= 0 else { throw ValidationError("--overhead-ms must be >= 0, got \(overheadMs)") }
        guard gpuMemoryMb.isFinite, gpuMemoryMb > 0 else { throw ValidationError("--gpu-memory-mb must be > 0, got \(gpuMemoryMb)") }
        guard headroom >= 0, headroom <= 10 else { throw ValidationError("--headroom must be in 0...10, got \(headroom)") }
    }

    var config: SchedulerConfig {
        let beaconNs = Int64(beaconMs) * 1_000_000
        let epochNs = Int64(epochS * 1e9)
        return SchedulerConfig(beaconNs: beaconNs, trigger: EpochTrigger(
            epochNs: epochNs, minimumIntervalNs: min(epochNs, 10_000_000_000), riseIntervalNs: min(beaconNs, min(epochNs, 10_000_000_000))))
    }

    /// The planning knobs these flags set; the rest are the defaults every command shares.
    var planning: PlanningSettings {
        var settings = PlanningSettings()
        settings.gpuMemoryMB = gpuMemoryMb
        settings.rateHeadroom = headroom
        settings.fillsCluster = policy == .nexusNext
        return settings
    }

    /// The applications of a workload file on simulated backends (`nexus serve --workload`).
    func scheduler(listen: HostPort, cluster: WorkloadCluster, limits: TransportLimits) -> SchedulerServer {
        SchedulerServer(options: .init(listen: listen, config: config, limits: limits), applications: cluster.applications,
                        models: Array(cluster.models.values), planner: cluster.planner(planning),
                        declaredStageRates: cluster.declaredStageRates)
    }

    /// The repository's applications (`--apps`, else one per profiled model), planned with their profiles.
    func scheduler(listen: HostPort, repository: ModelRepository, defaultProfile: String,
                   limits: TransportLimits) throws -> SchedulerServer {
        let cluster = try RepositoryCluster(repository: repository, appsDirectory: apps, defaultSLOMs: defaultSloMs,
                                            profileName: profile ?? defaultProfile)
        return SchedulerServer(options: .init(listen: listen, config: config, limits: limits), applications: cluster.applications,
                               models: cluster.models, planner: planning.epochPlanner(curves: cluster.curves, overheadMs: overheadMs))
    }
}

/// A backend's executor for `--device` (`RepositoryCluster.executor`), libtorch built from the flags.
func makeExecutor(runtime: RuntimeOptions, repository: ModelRepository, simulatedProfile: String, queueCapacity: Int,
                  policy: ServingPolicy) throws -> BackendExecutor {
    try RepositoryCluster.executor(device: runtime.device, repository: repository, simulatedProfile: simulatedProfile,
                                   queueCapacity: queueCapacity, growsIntoSlack: policy == .nexusNext) { try runtime.torchRuntime() }
}

/// What the servers run (`--policy`): Nexus, or `nexus-next` (DESIGN.md §5.4), the simulator's policy of that name.
enum ServingPolicy: String, ExpressibleByArgument, CaseIterable {
    case nexus
    case nexusNext = "nexus-next"
}
