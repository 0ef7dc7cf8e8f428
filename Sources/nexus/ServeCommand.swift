import ArgumentParser
import Foundation
import NexusConfig
import NexusRuntime
import NexusServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a whole cluster in one process: scheduler, one backend per device, one frontend (the embedded default).",
        discussion: """
            The parts talk gRPC over 127.0.0.1 exactly as separate processes do. --device auto uses every CUDA \
            device libtorch sees, else the CPU; with no libtorch it serves on the SIMULATED runtime (profile \
            latencies, zero outputs) and says so in its first log line.
            """)

    @Option(name: .long, help: "Model repository: <model>/model.yaml, the TorchScript file, profiles/<profile>.csv.")
    var repo: String

    @Option(name: .long, help: "Address to serve the Open Inference Protocol on.")
    var listen = "0.0.0.0:8001"

    @Option(name: .long, help: "auto, cpu, cuda:N, or simulated.")
    var device = "auto"

    @OptionGroup var torch: TorchFlags

    @Option(name: .long, help: "Requests one session may queue on a backend before new ones are refused.")
    var queueCapacity = 4096

    @OptionGroup var flags: SchedulerFlags

    @OptionGroup var eventLoops: EventLoopFlags

    func validate() throws {
        guard ["auto", "cpu", "simulated"].contains(device) || device.range(of: #"^cuda:[0-9]+$"#, options: .regularExpression) != nil else {
            throw ValidationError("--device must be auto, cpu, cuda:N or simulated, got '\(device)'")
        }
        guard (1...1_000_000).contains(queueCapacity) else { throw ValidationError("--queue-capacity must be in 1...1000000, got \(queueCapacity)") }
    }

    func run() async throws {
        eventLoops.apply()
        let log = ServerLog("serve")
        let listen = try HostPort(parsing: listen, flag: "--listen")
        let repository = try ModelRepository.load(root: repo)
        let (devices, profile, why) = resolveDevices(repository: repository)
        log.info(devices == ["simulated"]
                 ? "SIMULATED runtime (\(why)): latencies from profiles/\(profile).csv, outputs are zeros"
                 : "serving on \(devices.joined(separator: ", ")) with libtorch (\(why))")
        let scheduler = try flags.scheduler(listen: HostPort(host: "127.0.0.1", port: 0), repository: repository, defaultProfile: profile)
        var executors: [(String, BackendExecutor)] = []
        for device in devices {
            let runtime = try RuntimeOptions.parse(["--repo", repo, "--device", device] + torch.arguments)
            executors.append((device, try makeExecutor(runtime: runtime, repository: repository, simulatedProfile: profile,
                                                       queueCapacity: queueCapacity)))
        }
        let backends = executors
        try await runUntilSignalled {
            try await withThrowingTaskGroup(of: Void.self) { group in
                let (bound, continuation) = AsyncStream<HostPort>.makeStream()
                group.addTask { try await scheduler.run(onListening: { continuation.yield($0) }) }
                var iterator = bound.makeAsyncIterator()
                guard let schedulerAddress = await iterator.next() else { return }
                for (device, executor) in backends {
                    let backend = BackendServer(options: .init(listen: HostPort(host: "127.0.0.1", port: 0), advertise: nil,
                                                               scheduler: schedulerAddress, device: device), executor: executor)
                    group.addTask { try await backend.run() }
                }
                let frontend = FrontendServer(options: .init(listen: listen, advertise: nil, scheduler: schedulerAddress))
                group.addTask { try await frontend.run() }
                try await group.next()
                group.cancelAll()
            }
        }
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
