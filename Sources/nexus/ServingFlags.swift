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

    @Option(name: .long, help: "Milliseconds of silence after which a frontend pings its link to a backend; a ping unanswered for as long closes the link, so a partitioned backend is noticed within twice this and its calls go elsewhere.")
    var linkKeepaliveMs: Int64 = TransportLimits.defaults.linkKeepaliveMs

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
        guard (10...60_000).contains(linkKeepaliveMs) else {
            throw ValidationError("--link-keepalive-ms must be in 10...60000 (backends accept a ping every 10 ms at most), got \(linkKeepaliveMs)")
        }
    }

    var limits: TransportLimits {
        TransportLimits(maxMessageBytes: maxMessageMb << 20, maxConcurrentStreams: maxConcurrentStreams,
                        keepaliveIntervalMs: Int64(keepaliveS * 1000), keepaliveTimeoutMs: Int64(keepaliveTimeoutS * 1000),
                        linkKeepaliveMs: linkKeepaliveMs)
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
