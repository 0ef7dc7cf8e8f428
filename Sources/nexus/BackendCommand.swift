import ArgumentParser
import Logging
import NexusServer

struct BackendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backend",
        abstract: "Run a backend: one device's executor behind gRPC, running the model table the scheduler pushes.",
        discussion: """
            --device cpu or cuda:N runs models with libtorch (native/build/libnexus_torch.so); --device simulated \
            runs none: each batch takes its profile's median latency and returns zeros, and every reply is \
            labelled simulated. On SIGTERM or SIGINT it unregisters, runs what is queued (new calls get \
            UNAVAILABLE) and exits 0 within --drain-timeout-s.
            """)

    @Option(name: .long, help: "The scheduler's HOST:PORT.")
    var scheduler: String

    @Option(name: .long, help: "Address to serve frontends on (port 0: any free port).")
    var listen = "0.0.0.0:8200"

    @Option(name: .long, help: "HOST:PORT other nodes reach this backend at (default: the --listen address as bound).")
    var advertise: String?

    @Option(name: .long, help: "With --device simulated: the profile to take latencies from (<repo>/<model>/profiles/<NAME>.csv).")
    var profile = "cpu"

    @Option(name: .long, help: "Requests one session may queue before new ones are refused (RESOURCE_EXHAUSTED).")
    var queueCapacity = 4096

    @Option(name: .long, help: "nexus, or nexus-next: a visit whose queue holds more than the planned batch grows it into the duty cycle's slack (DESIGN.md §5.4).")
    var policy: ServingPolicy = .nexus

    @OptionGroup var runtime: RuntimeOptions

    @OptionGroup var serving: ServingFlags

    @OptionGroup var eventLoops: EventLoopFlags

    @OptionGroup var metrics: MetricsFlags

    func validate() throws {
        guard (1...1_000_000).contains(queueCapacity) else { throw ValidationError("--queue-capacity must be in 1...1000000, got \(queueCapacity)") }
    }

    func run() async throws {
        serving.bootstrapLogging()
        eventLoops.apply()
        let metricsServices = try metrics.services()   // before any server makes its metric handles
        let listen = try HostPort(parsing: listen, flag: "--listen")
        let scheduler = try HostPort(parsing: scheduler, flag: "--scheduler")
        if let advertise { _ = try HostPort(parsing: advertise, flag: "--advertise") }
        let executor = try makeExecutor(runtime: runtime, repository: try runtime.repository(), simulatedProfile: profile,
                                        queueCapacity: queueCapacity, policy: policy)
        let options = BackendServer.Options(listen: listen, advertise: advertise, scheduler: .fixed(scheduler),
                                            device: runtime.device, limits: serving.limits, drain: serving.drainDeadline())
        let server = BackendServer(options: options, executor: executor)
        try await runServices(metricsServices + server.services, serving: serving, logger: Logger(label: "backend(\(runtime.device))"))
    }
}
