import Hummingbird
import NIOCore
import Logging
import NexusCore
import ServiceLifecycle

/// The frontend's HTTP/REST listener (`--http-listen`): a Hummingbird application beside the gRPC server,
/// on the process's event loops, run as a service of its own in the frontend's service group.
extension FrontendServer {
    /// The HTTP/REST service, or nil when `--http-listen` is off.
    var httpService: (any Service)? {
        guard let listen = options.httpListen else { return nil }
        let router = Router()
        HTTPInferenceRoutes(core: InferenceCore(frontend: self), maxBodyBytes: options.limits.maxMessageBytes).add(to: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "nexus"),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? listen.port
                let address = HostPort(host: listen.host, port: port)
                httpBound.set(address)
                logger.info("serving the Open Inference Protocol (HTTP/REST) on \(address)")
            },
            eventLoopGroupProvider: .shared(EventLoops.shared.group),
            logger: Logger(label: "frontend-http"))
    }

    /// Waits until the HTTP/REST listener has bound (port 0 resolved); only when `--http-listen` is on.
    public func httpListeningAddress() async throws -> HostPort { try await httpBound.value() }
}
