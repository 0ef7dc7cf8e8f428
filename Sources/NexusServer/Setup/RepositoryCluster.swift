import Logging
import NexusConfig
import NexusCore
import NexusRuntime

/// What `nexus serve --repo` and `nexus scheduler` plan: the applications of a model repository (YAML files
/// under `--apps`, or one per profiled model) with the profiles they are planned with; and the executor a
/// backend runs for its device.
public struct RepositoryCluster: Sendable {
    public let applications: [ServedApplication]
    /// The models the applications use.
    public let models: [ModelSpec]
    public let curves: ModelCurves

    /// `appsDirectory` nil: one application per model that has a profile `profileName`, with `defaultSLOMs`
    /// (the others are named in a warning, with how to profile them). Every model an application uses must
    /// have that profile.
    public init(repository: ModelRepository, appsDirectory: String?, defaultSLOMs: Double, profileName: String,
                logger: Logger = Logger(label: "scheduler")) throws {
        var applications: [ServedApplication]
        if let appsDirectory {
            applications = try ApplicationLoader.load(directory: appsDirectory, repository: repository)
        } else {
            let all = ApplicationLoader.oneModelApplications(repository: repository, latencySLOMs: defaultSLOMs)
            applications = try all.filter { try repository.profile(model: $0.name, device: profileName) != nil }
            let skipped = all.map(\.name).filter { name in !applications.contains { $0.name == name } }
            if !skipped.isEmpty {
                logger.warning("not serving \(skipped.joined(separator: ", ")): no profiles/\(profileName).csv (measure with `nexus profile --repo \(repository.root) --model NAME`)")
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
        self.applications = applications
        models = used.compactMap { repository.models[$0] }
        curves = ModelCurves(table: ProfileTable(source: "\(repository.root)/*/profiles/\(profileName).csv", column: .graphP99,
                                                 profiles: profiles))
    }

    /// A backend's executor for `device`: `torch` (libtorch on cpu / cuda:N, built by the caller from its
    /// flags) or, for "simulated", the profile-driven SIMULATED device over the repository's `simulatedProfile`.
    public static func executor(device: String, repository: ModelRepository, simulatedProfile: String, queueCapacity: Int,
                                growsIntoSlack: Bool = false, torch: () throws -> any ModelRuntime) throws -> BackendExecutor {
        let runtime: any ModelRuntime
        if device == "simulated" {
            var profiles: [String: ModelProfile] = [:]
            for name in repository.modelNames {
                if let profile = try repository.profile(model: name, device: simulatedProfile) { profiles[name] = profile }
            }
            runtime = SimulatedRuntime(profiles: profiles, label: "profiles/\(simulatedProfile).csv")
        } else {
            runtime = try torch()
        }
        // A CUDA device decodes on a pool beside it; a CPU device decodes on the submitting thread, as a pool
        // would only preempt libtorch's threads mid-batch.
        return BackendExecutor(runtime: runtime, models: repository.models,
                               options: .init(workerThreads: device.hasPrefix("cuda") ? 2 : 0, queueCapacity: queueCapacity,
                                              growsIntoSlack: growsIntoSlack))
    }
}
