import ArgumentParser
import Logging
import NexusServer

/// What every serving process takes (`serve`, `scheduler`, `frontend`, `backend`): its log, how it stops,
/// and the limits of its gRPC connections.
struct ServingFlags: ParsableArguments {
    @Option(name: .long, help: "Log lines on stderr as text ('<ISO time> <component>: <message> {metadata}') or as json objects, one a line.")
    var logFormat: LogFormat = .text

    @Option(name: .long, help: "The least severe level logged.")
    var logLevel: Logger.Level = .info

    @Option(name: .long, help: "On SIGTERM or SIGINT: seconds to answer the requests in flight (new ones get UNAVAILABLE); what is left then is answered UNAVAILABLE and the process exits.")
    var drainTimeoutS: Double = Double(DrainDeadline.defaultTimeoutNs) / 1e9

    @Option(name: .long, help: "Largest gRPC message in MiB: a request over it is answered RESOURCE_EXHAUSTED (the connection serves on).")
    var maxMessageMb: Int = Transport.maxMessageBytes >> 20

    @Option(name: .long, help: "Calls one client connection may have open at once; announced to clients, which queue the rest.")
    var maxConcurrentStreams: Int = TransportLimits.defaults.maxConcurrentStreams

    @Option(name: .long, help: "Seconds of silence after which a connection is pinged, by servers and clients alike.")
    var keepaliveS: Double = Double(TransportLimits.defaults.keepaliveIntervalMs) / 1000

    @Option(name: .long, help: "Seconds a ping may go unanswered before its connection is closed and the calls on it fail (a dead peer or link).")
    var keepaliveTimeoutS: Double = Double(TransportLimits.defaults.keepaliveTimeoutMs) / 1000

    @Option(name: .long, help: "Milliseconds between a frontend's pings of its link to a backend (at least 200: SwiftNIO closes a connection that receives over 200 pings in 30 s).")
    var linkKeepaliveMs: Int64 = TransportLimits.defaults.linkKeepaliveMs

    @Option(name: .long, help: "Milliseconds a backend may leave a ping unanswered: a frontend then breaks the link (its calls go elsewhere) and reports the backend; the scheduler's probe of it waits as long before planning without it.")
    var linkTimeoutMs: Int64 = TransportLimits.defaults.linkTimeoutMs

    func validate() throws {
        guard drainTimeoutS.isFinite, (0...3600).contains(drainTimeoutS) else {
            throw ValidationError("--drain-timeout-s must be in 0...3600, got \(drainTimeoutS)")
        }
        guard (1...2047).contains(maxMessageMb) else {
            throw ValidationError("--max-message-mb must be in 1...2047 (a gRPC message's length is 32 bits), got \(maxMessageMb)")
        }
        guard (1...1_000_000).contains(maxConcurrentStreams) else {
            throw ValidationError("--max-concurrent-streams must be in 1...1000000, got \(maxConcurrentStreams)")
        }
        guard keepaliveS.isFinite, (1...86_400).contains(keepaliveS) else {
            throw ValidationError("--keepalive-s must be in 1...86400, got \(keepaliveS)")
        }
        guard keepaliveTimeoutS.isFinite, (0.1...3600).contains(keepaliveTimeoutS) else {
            throw ValidationError("--keepalive-timeout-s must be in 0.1...3600, got \(keepaliveTimeoutS)")
        }
        guard (TransportLimits.minimumLinkKeepaliveMs...60_000).contains(linkKeepaliveMs) else {
            throw ValidationError("--link-keepalive-ms must be in \(TransportLimits.minimumLinkKeepaliveMs)...60000, got \(linkKeepaliveMs)")
        }
        guard (10...60_000).contains(linkTimeoutMs) else {
            throw ValidationError("--link-timeout-ms must be in 10...60000, got \(linkTimeoutMs)")
        }
    }

    var limits: TransportLimits {
        TransportLimits(maxMessageBytes: maxMessageMb << 20, maxConcurrentStreams: maxConcurrentStreams,
                        keepaliveIntervalMs: Int64(keepaliveS * 1000), keepaliveTimeoutMs: Int64(keepaliveTimeoutS * 1000),
                        linkKeepaliveMs: linkKeepaliveMs, linkTimeoutMs: linkTimeoutMs)
    }

    /// One per process: in `nexus serve` the frontend, the backends and the scheduler drain against it.
    func drainDeadline() -> DrainDeadline { DrainDeadline(timeoutNs: Int64(drainTimeoutS * 1e9)) }

    /// Sends every `Logger` of the process to `NexusLogHandler`; once, before anything logs.
    func bootstrapLogging() {
        let format = logFormat
        let level = logLevel
        LoggingSystem.bootstrap { label in NexusLogHandler(component: label, format: format, level: level) }
    }
}

extension LogFormat: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}
