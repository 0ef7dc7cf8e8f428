import ArgumentParser
import Logging
import NexusServer

struct FrontendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frontend",
        abstract: "Run a frontend: serves the Open Inference Protocol (Triton's gRPC API) and routes every model call.",
        discussion: """
            Applications and model interfaces come from the scheduler when the frontend registers. Each \
            application is a "model" of the protocol; errors are gRPC codes with a message naming the field \
            and the limit (README: Errors). On SIGTERM or SIGINT it unregisters, answers the requests in flight \
            (new ones, and ServerReady, get UNAVAILABLE / false) and exits 0 within --drain-timeout-s.
            """)

    @Option(name: .long, help: "The scheduler's HOST:PORT.")
    var scheduler: String

    @Option(name: .long, help: "Address to serve clients on (Triton's gRPC port is 8001; port 0: any free port).")
    var listen = "0.0.0.0:8001"

    @OptionGroup var http: HTTPFlags

    @Option(name: .long, help: "HOST:PORT the scheduler reaches this frontend at (default: the --listen address as bound).")
    var advertise: String?

    @OptionGroup var serving: ServingFlags

    @OptionGroup var eventLoops: EventLoopFlags

    @OptionGroup var metrics: MetricsFlags

    func run() async throws {
        serving.bootstrapLogging()
        eventLoops.apply()
        let metricsServices = try metrics.services()   // before any server makes its metric handles
        let options = FrontendServer.Options(listen: try HostPort(parsing: listen, flag: "--listen"), advertise: advertise,
                                             scheduler: .fixed(try HostPort(parsing: scheduler, flag: "--scheduler")),
                                             limits: serving.limits, drain: serving.drainDeadline(),
                                             httpListen: try http.address())
        if let advertise { _ = try HostPort(parsing: advertise, flag: "--advertise") }
        let server = FrontendServer(options: options)
        try await runServices(metricsServices + server.services, serving: serving, logger: Logger(label: "frontend"))
    }
}
