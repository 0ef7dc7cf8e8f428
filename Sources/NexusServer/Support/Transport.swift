import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import ServiceLifecycle

/// What a process's gRPC connections allow and how they notice a dead peer; the same for every process of
/// a cluster (`--max-message-mb`, `--max-concurrent-streams`, `--keepalive-s`, `--keepalive-timeout-s`).
public struct TransportLimits: Sendable, Equatable {
    /// The largest message a server takes (a client request, a batch of calls) and a client reads (a batch
    /// of replies). A larger request is answered RESOURCE_EXHAUSTED and the connection serves on.
    public var maxMessageBytes: Int
    /// Calls a client may have open at once on one connection. It is announced in the HTTP/2 settings, so
    /// standard clients queue calls beyond it instead of losing the connection (unannounced, SwiftNIO's
    /// HTTP/2 enforced 100 and closed connections that opened more).
    public var maxConcurrentStreams: Int
    /// Both ends ping a connection that has been silent this long...
    public var keepaliveIntervalMs: Int64
    /// ...and close it when the ping is not answered within this, so a dead peer or link fails the calls
    /// on it instead of leaving them waiting.
    public var keepaliveTimeoutMs: Int64
    /// A frontend pings its link to a backend this often (HTTP/2 PING, which no flow control holds up: a link
    /// busy with megabytes of replies still answers at once, as does a backend in a long batch)...
    public var linkKeepaliveMs: Int64
    /// ...and breaks it when a ping is unanswered this long; the scheduler's probe of a backend a frontend
    /// reported waits as long. A partition is noticed within `linkKeepaliveMs + linkTimeoutMs`, whatever the
    /// budgets of the calls on the link.
    public var linkTimeoutMs: Int64

    public init(maxMessageBytes: Int = Transport.maxMessageBytes, maxConcurrentStreams: Int = 4096,
                keepaliveIntervalMs: Int64 = 10_000, keepaliveTimeoutMs: Int64 = 5_000,
                linkKeepaliveMs: Int64 = 200, linkTimeoutMs: Int64 = 100) {
        self.maxMessageBytes = maxMessageBytes
        self.maxConcurrentStreams = maxConcurrentStreams
        self.keepaliveIntervalMs = keepaliveIntervalMs
        self.keepaliveTimeoutMs = keepaliveTimeoutMs
        self.linkKeepaliveMs = linkKeepaliveMs
        self.linkTimeoutMs = linkTimeoutMs
    }

    public static let defaults = TransportLimits()

    /// SwiftNIO's HTTP/2 closes a connection that receives over 200 pings (and other control frames) in 30
    /// s; a link pinging every 200 ms sends 150. Backends accept pings this often.
    public static let minimumLinkKeepaliveMs: Int64 = 200

    /// The limits of a frontend's links to backends: the link keepalive instead of the general one.
    var forBackendLinks: TransportLimits {
        var limits = self
        limits.keepaliveIntervalMs = linkKeepaliveMs
        limits.keepaliveTimeoutMs = linkTimeoutMs
        return limits
    }

    /// What a batch message (requests or replies) may carry before the link splits it: 4 MiB, or the message
    /// limit less room for the batch's own framing if that is smaller (a single larger call goes alone). Not
    /// the message limit itself: every buffer on the way (HTTP/2 frames gathered into a message, the
    /// message, its decoded copy) grows to the largest message a connection carried and keeps that size, so
    /// 60 MB batches of replies in a burst left the serving process ~25 MB larger for the rest of its life
    /// (bench/soak.sh on traffic, whose detector answers 2.9 MB per call).
    var batchPayloadBytes: Int { max(1, min(4 << 20, maxMessageBytes - 64 * 1024)) }
    /// A link's batch can exceed `batchPayloadBytes` by one call's framing; a server or client reading
    /// batches allows that much over the limit.
    var batchMessageBytes: Int { maxMessageBytes + 64 * 1024 }
}

/// One place for how Nexus's processes talk: plaintext HTTP/2 over NIO (TLS is the job of the network the
/// cluster runs in), within `TransportLimits`, on the process's `EventLoops`.
public enum Transport {
    /// The default message limit: a full-resolution frame fits.
    public static let maxMessageBytes = 64 << 20

    /// A server taking messages up to `maxMessageBytes`: a client's request (the frontend) or a batch of
    /// calls (`limits.batchMessageBytes`, the backend and the scheduler). `minClientPingInterval`: pings more
    /// frequent earn strikes, and three close the connection.
    static func server(listen: HostPort, limits: TransportLimits, maxMessageBytes: Int,
                       minClientPingInterval: Duration = .seconds(1)) -> HTTP2ServerTransport.Posix {
        let config = HTTP2ServerTransport.Posix.Config.defaults { config in
            config.rpc.maxRequestPayloadSize = maxMessageBytes
            config.http2.maxConcurrentStreams = limits.maxConcurrentStreams
            config.connection.keepalive = .init(
                time: .milliseconds(limits.keepaliveIntervalMs), timeout: .milliseconds(limits.keepaliveTimeoutMs),
                // Clients of other processes ping as often as their own --keepalive-s says (a ping a second
                // is cheap, and stricter policing would close their connections); frontends' links to a
                // backend as often as --link-keepalive-ms.
                clientBehavior: .init(minPingIntervalWithoutCalls: minClientPingInterval, allowWithoutCalls: true))
            // grpc-swift closes a stream whose message is over the limit without a status (the client sees
            // CANCELLED); the guard answers RESOURCE_EXHAUSTED first.
            config.channelDebuggingCallbacks.onAcceptHTTP2Stream = { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        OversizeMessageGuard(maxMessageBytes: maxMessageBytes), position: .first)
                }
            }
        }
        return .http2NIOPosix(address: listen.socketAddress, transportSecurity: .plaintext, config: config,
                              eventLoopGroup: EventLoops.shared.group)
    }

    public static func client(_ target: HostPort, limits: TransportLimits = .defaults) throws
        -> GRPCClient<HTTP2ClientTransport.Posix> {
        GRPCClient(transport: try clientTransport(target, limits: limits))
    }

    static func clientTransport(_ target: HostPort, limits: TransportLimits = .defaults) throws
        -> HTTP2ClientTransport.Posix {
        let config = HTTP2ClientTransport.Posix.Config.defaults { config in
            config.connection.keepalive = .init(time: .milliseconds(limits.keepaliveIntervalMs),
                                                timeout: .milliseconds(limits.keepaliveTimeoutMs),
                                                allowWithoutCalls: true)
        }
        // The transport reads replies up to the call's request limit (4 MiB unless configured), so both
        // limits are set for every method: a batch of replies may be as large as a batch of calls.
        let everyMethod = MethodConfig(names: [MethodConfig.Name(service: "")],
                                       maxRequestMessageBytes: limits.batchMessageBytes,
                                       maxResponseMessageBytes: limits.batchMessageBytes)
        let host = target.host == "localhost" ? "127.0.0.1" : target.host
        return try .http2NIOPosix(target: .ipv4(address: host, port: target.port), transportSecurity: .plaintext,
                                  config: config, serviceConfig: ServiceConfig(methodConfig: [everyMethod]),
                                  eventLoopGroup: EventLoops.shared.group)
    }

    /// Runs `server` as a service does: `listening` once it has bound; on graceful shutdown `drain`, then the
    /// server takes no new calls and this returns once those it has are answered. On cancellation it stops
    /// at once, without draining.
    static func serve(_ server: GRPCServer<HTTP2ServerTransport.Posix>, transport: HTTP2ServerTransport.Posix,
                      advertise host: String, listening: (HostPort) -> Void, drain: () async -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            let address: HostPort
            do {
                address = try await boundAddress(of: transport, advertise: host)
            } catch {
                try await group.next()  // the server's own error says why it stopped (an address in use)
                throw error
            }
            listening(address)
            do {
                try await gracefulShutdown()
                await drain()
            } catch {
                // Cancelled: the process is going down at once.
            }
            server.beginGracefulShutdown()
            try await group.waitForAll()
        }
    }

    /// The bound address of a started server (port 0 resolves to the real port).
    static func boundAddress(of transport: HTTP2ServerTransport.Posix, advertise host: String) async throws -> HostPort {
        let address = try await transport.listeningAddress
        guard let ipv4 = address.ipv4 else { throw ServerError.startup("the server bound \(address), not an IPv4 address") }
        return HostPort(host: host == "0.0.0.0" ? ipv4.host : host, port: ipv4.port)
    }
}
