import ArgumentParser
import NexusConfig
import Logging
import NexusServer

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Run the scheduler: nodes, beacons, the epoch planner; pushes model tables and routes (DESIGN.md §2).",
        discussion: """
            Backends and frontends register with it. Every beacon it folds the frontends' request counts into \
            per-stage rates (EWMA, 10 s) and plans again when the epoch ends, a session's rate leaves \
            [0.8, 1.1] x its plan, or a backend comes or goes (a node silent for 3 beacons is dead). Each plan \
            keeps last epoch's placements where it can; tables go to backends first, routes to frontends once \
            every backend has its table. On SIGTERM or SIGINT it answers the calls it has and exits 0; nodes \
            keep serving and register again with the next scheduler.
            """)

    @Option(name: .long, help: "Address to serve the control service on (port 0: any free port).")
    var listen = "0.0.0.0:8100"

    @Option(name: .long, help: "Model repository: <model>/model.yaml and profiles/<profile>.csv.")
    var repo: String

    @OptionGroup var flags: SchedulerFlags

    @OptionGroup var serving: ServingFlags

    @OptionGroup var eventLoops: EventLoopFlags

    @OptionGroup var metrics: MetricsFlags

    func run() async throws {
        serving.bootstrapLogging()
        eventLoops.apply()
        let metricsServices = try metrics.services()   // before any server makes its metric handles
        let listen = try HostPort(parsing: listen, flag: "--listen")
        let repository = try ModelRepository.load(root: repo)
        let server = try flags.scheduler(listen: listen, repository: repository, defaultProfile: "cpu",
                                         limits: serving.limits)
        try await runServices(metricsServices + server.services, serving: serving, logger: Logger(label: "scheduler"))
    }
}
