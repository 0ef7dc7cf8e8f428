import ArgumentParser
import Foundation
import Logging
import NexusConfig
import NexusCore
import NexusRuntime
import NexusServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a whole cluster in one process: scheduler, one backend per device, one frontend (the embedded default).",
        discussion: """
            The parts talk gRPC over 127.0.0.1 exactly as separate processes do. --device auto uses every CUDA \
            device libtorch sees, else the CPU; with no libtorch it serves on the SIMULATED runtime (profile \
            latencies, zero outputs) and says so in its first log line. On SIGTERM or SIGINT the frontend \
            drains first (new requests get UNAVAILABLE, those in flight are answered), then the backends finish \
            their queues, then the scheduler stops; the process exits 0 within --drain-timeout-s.
            """)

    @Option(name: .long, help: "Model repository: <model>/model.yaml, the TorchScript file, profiles/<profile>.csv.")
    var repo: String?

    @OptionGroup var study: StudyFlags

    @Option(name: .long, help: "With --workload: simulated backends to start (default: the workload's gpus).")
    var backends: Int?

    @Option(name: .long, help: "Address to serve the Open Inference Protocol on.")
    var listen = "0.0.0.0:8001"

    @OptionGroup var http: HTTPFlags

    @Option(name: .long, help: "auto, cpu, cuda:N, or simulated.")
    var device = "auto"

    @OptionGroup var torch: TorchFlags

    @Option(name: .long, help: "Requests one session may queue on a backend before new ones are refused.")
    var queueCapacity = 4096

    @OptionGroup var flags: SchedulerFlags

    @OptionGroup var serving: ServingFlags

    @OptionGroup var eventLoops: EventLoopFlags

    @OptionGroup var metrics: MetricsFlags

    func validate() throws {
        guard (repo == nil) != (study.workload == nil) else { throw ValidationError("give --repo (real models) or --workload (simulated backends), not both and not neither") }
        if let backends, !(1...1024).contains(backends) { throw ValidationError("--backends must be in 1...1024, got \(backends)") }
        if study.workload == nil, backends != nil { throw ValidationError("--backends goes with --workload") }
        guard ["auto", "cpu", "simulated"].contains(device) || device.range(of: #"^cuda:[0-9]+$"#, options: .regularExpression) != nil else {
            throw ValidationError("--device must be auto, cpu, cuda:N or simulated, got '\(device)'")
        }
        guard (1...1_000_000).contains(queueCapacity) else { throw ValidationError("--queue-capacity must be in 1...1000000, got \(queueCapacity)") }
    }

    func run() async throws {
        serving.bootstrapLogging()
        eventLoops.apply()
        let metricsServices = try metrics.services()   // before any server makes its metric handles
        let log = Logger(label: "serve")
        let listen = try HostPort(parsing: listen, flag: "--listen")
        let limits = serving.limits
        let drain = serving.drainDeadline()
        let (scheduler, executors) = try study.workload != nil ? workloadCluster(log, limits: limits) : repositoryCluster(log, limits: limits)
        let backends = executors.map { device, executor in
            BackendServer(options: .init(listen: HostPort(host: "127.0.0.1", port: 0), advertise: nil,
                                         scheduler: .bound(by: scheduler), device: device,
                                         limits: limits, drain: drain), executor: executor)
        }
        let frontend = FrontendServer(options: .init(listen: listen, advertise: nil, scheduler: .bound(by: scheduler),
                                                     limits: limits, drain: drain, httpListen: try http.address()))
        // Shut down last first: the frontend drains (nothing new reaches the backends), then the backends
        // finish their queues, then the scheduler stops.
        try await runServices(metricsServices + scheduler.services + backends.flatMap(\.services) + frontend.services,
                              serving: serving, logger: log)
    }

    /// `--repo`: the repository's models on every device this machine has (or simulated, without libtorch).
    func repositoryCluster(_ log: Logger, limits: TransportLimits) throws -> (SchedulerServer, [(String, BackendExecutor)]) {
        let repo = repo!
        let repository = try ModelRepository.load(root: repo)
        let (devices, profile, why) = resolveDevices(repository: repository)
        log.info(devices == ["simulated"]
                 ? "SIMULATED runtime (\(why)): latencies from profiles/\(profile).csv, outputs are zeros"
                 : "serving on \(devices.joined(separator: ", ")) with libtorch (\(why))")
        let scheduler = try flags.scheduler(listen: HostPort(host: "127.0.0.1", port: 0), repository: repository,
                                            defaultProfile: profile, limits: limits)
        var executors: [(String, BackendExecutor)] = []
        for device in devices {
            let runtime = try RuntimeOptions.parse(["--repo", repo, "--device", device] + torch.arguments)
            executors.append((device, try makeExecutor(runtime: runtime, repository: repository, simulatedProfile: profile,
                                                       queueCapacity: queueCapacity, policy: flags.policy)))
        }
        return (scheduler, executors)
    }

    /// `--workload`: the workload's applications on `--backends` simulated backends.
    func workloadCluster(_ log: Logger, limits: TransportLimits) throws -> (SchedulerServer, [(String, BackendExecutor)]) {
        let (loaded, phaseIndex) = try study.load()!
        let cluster = try WorkloadCluster(loaded: loaded, phaseIndex: phaseIndex)
        let count = backends ?? loaded.workload.gpus ?? 1
        log.info("""
            SIMULATED runtime: workload \(loaded.workload.name) (\(cluster.applications.count) applications) on \(count) \
            simulated backends, time scale \(study.timeScale); batch times from \(loaded.profilesPath), outputs are zeros
            """)
        let scheduler = flags.scheduler(listen: HostPort(host: "127.0.0.1", port: 0), cluster: cluster, limits: limits)
        let executors = (0..<count).map { index in
            ("simulated", BackendExecutor(runtime: cluster.runtime(seed: UInt64(index) + 1), models: cluster.models,
                                          options: .init(workerThreads: 0, queueCapacity: queueCapacity,
                                                         growsIntoSlack: flags.policy == .nexusNext)))
        }
        return (scheduler, executors)
    }

    /// The devices to run and the profile to plan with, and why.
    func resolveDevices(repository: ModelRepository) -> (devices: [String], profile: String, why: String) {
        if device == "simulated" { return (["simulated"], flags.profile ?? simulatedProfile(repository), "--device simulated") }
        if device != "auto" { return ([device], flags.profile ?? (device == "cpu" ? "cpu" : "cuda"), "--device \(device)") }
        do {
            let library = try TorchLibrary.open(explicitPath: torch.torchLibrary)
            if library.cudaDeviceCount > 0 {
                return ((0..<library.cudaDeviceCount).map { "cuda:\($0)" }, flags.profile ?? "cuda", "libtorch \(library.torchVersion) sees \(library.cudaDeviceCount) CUDA device(s)")
            }
            return (["cpu"], flags.profile ?? "cpu", "libtorch \(library.torchVersion), no CUDA device")
        } catch {
            return (["simulated"], flags.profile ?? simulatedProfile(repository), "no libtorch: \(error)")
        }
    }

    /// The profile most models of the repository have: cuda, else cpu.
    func simulatedProfile(_ repository: ModelRepository) -> String {
        for name in ["cuda", "cpu"] where repository.modelNames.contains(where: { FileManager.default.fileExists(atPath: repository.profilePath(model: $0, device: name)) }) {
            return name
        }
        return "cpu"
    }
}
