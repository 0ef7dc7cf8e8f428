import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// `--metrics-listen`: serves the process's registry as Prometheus text at `GET /metrics`, as a Service of
/// the process's ServiceGroup. Listed first, it stops last, so a draining process can still be scraped.
public struct MetricsEndpoint: Service {
    let registry: PrometheusCollectorRegistry
    let host: String
    let port: Int
    let logger: Logger

    public init(registry: PrometheusCollectorRegistry, host: String, port: Int, logger: Logger = Logger(label: "metrics")) {
        self.registry = registry
        self.host = host
        self.port = port
        self.logger = logger
    }

    public func run() async throws {
        let registry = registry
        let memory = ProcessMemoryGauge()
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            memory.update()
            var body: [UInt8] = []
            body.reserveCapacity(registry.internalBufferCapacity())
            registry.emit(into: &body)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        let logger = logger
        let app = Application(router: router,
                              configuration: .init(address: .hostname(host, port: port), serverName: "nexus-metrics"),
                              onServerRunning: { channel in
                                  let bound = channel.localAddress?.port.map { "\(host):\($0)" } ?? "\(host):\(port)"
                                  logger.info("serving Prometheus metrics on http://\(bound)/metrics")
                              },
                              logger: logger)
        try await app.run()
    }
}
