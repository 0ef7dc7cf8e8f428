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
        return settings
    }

    /// The applications of a workload file on simulated backends (`nexus serve --workload`).
    func scheduler(listen: HostPort, cluster: WorkloadCluster, limits: TransportLimits) -> SchedulerServer {
        SchedulerServer(options: .init(listen: listen, config: config, limits: limits), applications: cluster.applications,
                        models: Array(cluster.models.values), planner: cluster.planner(planning),
                        declaredStageRates: cluster.declaredStageRates)
    }

    /// Loads applications and profiles; every model an application uses must have a profile.
    func scheduler(listen: HostPort, repository: ModelRepository, defaultProfile: String,
                   limits: TransportLimits) throws -> SchedulerServer {
        let profileName = profile ?? defaultProfile
        var applications: [ServedApplication]
        if let apps {
            applications = try ApplicationLoader.load(directory: apps, repository: repository)
        } else {
            // Every model that has a profile; the others are named, with how to profile them.
            let all = ApplicationLoader.oneModelApplications(repository: repository, latencySLOMs: defaultSloMs)
            applications = try all.filter { try repository.profile(model: $0.name, device: profileName) != nil }
            let skipped = all.map(\.name).filter { name in !applications.contains { $0.name == name } }
            if !skipped.isEmpty {
                Logger(label: "scheduler").warning("not serving \(skipped.joined(separator: ", ")): no profiles/\(profileName).csv (measure with `nexus profile --repo \(repository.root) --model NAME`)")
            }
            guard !applications.isEmpty else {
                throw ServerError.configuration("no model of \(repository.root) has a profile \(profileName).csv; measure one with `nexus profile --repo \(repository.root) --model NAME --device cpu|cuda:N` (or pick another with --profile)")
            }
        }
        let used = Set(applications.flatMap { $0.spec.stages.map(\.model) }).sorted()
        var profiles: [ModelProfile] = []
        for model in used {
            guard let profile = try repository.profile(model: model, device: profileName) else {
                throw ServerError.configuration("model '\(model)' has no profile \(repository.profilePath(model: model, device: profileName)); measure it with `nexus profile --repo \(repository.root) --model \(model) --device cpu|cuda:N` (or pick another with --profile)")
            }
            profiles.append(profile)
        }
        let curves = ModelCurves(table: ProfileTable(source: "\(repository.root)/*/profiles/\(profileName).csv", column: .graphP99, profiles: profiles))
        let planner = planning.epochPlanner(curves: curves, overheadMs: overheadMs)
        return SchedulerServer(options: .init(listen: listen, config: config, limits: limits), applications: applications,
                               models: used.compactMap { repository.models[$0] }, planner: planner)
    }
}

/// Builds a backend's executor for `--device`: libtorch on cpu / cuda:N, or the profile-driven SIMULATED
/// device.
func makeExecutor(runtime: RuntimeOptions, repository: ModelRepository, simulatedProfile: String, queueCapacity: Int) throws -> BackendExecutor {
    let modelRuntime: any ModelRuntime
    if runtime.device == "simulated" {
        var profiles: [String: ModelProfile] = [:]
        for name in repository.modelNames {
            if let profile = try repository.profile(model: name, device: simulatedProfile) { profiles[name] = profile }
        }
        modelRuntime = SimulatedRuntime(profiles: profiles, label: "profiles/\(simulatedProfile).csv")
    } else {
        modelRuntime = try runtime.torchRuntime()
    }
    return BackendExecutor(runtime: modelRuntime, models: repository.models,
                           options: .init(workerThreads: runtime.device.hasPrefix("cuda") ? 2 : 0, queueCapacity: queueCapacity))
}
