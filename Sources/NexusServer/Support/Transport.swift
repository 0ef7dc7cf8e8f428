import GRPCCore
import GRPCNIOTransportHTTP2

/// One place for how Nexus's processes talk: plaintext HTTP/2 over NIO (TLS is the job of the network the
/// cluster runs in), with request payloads up to `maxMessageBytes` so a full-resolution frame fits, on the
/// process's `EventLoops`.
public enum Transport {
    public static let maxMessageBytes = 64 << 20

    static func server(listen: HostPort) -> HTTP2ServerTransport.Posix {
        .http2NIOPosix(address: listen.socketAddress, transportSecurity: .plaintext,
                       config: .defaults { $0.rpc.maxRequestPayloadSize = maxMessageBytes },
                       eventLoopGroup: EventLoops.shared.group)
    }

    static func client(_ target: HostPort) throws -> GRPCClient<HTTP2ClientTransport.Posix> {
        GRPCClient(transport: try clientTransport(target))
    }

    static func clientTransport(_ target: HostPort) throws -> HTTP2ClientTransport.Posix {
        try .http2NIOPosix(target: .ipv4(address: target.host == "localhost" ? "127.0.0.1" : target.host, port: target.port),
                           transportSecurity: .plaintext, eventLoopGroup: EventLoops.shared.group)
    }

    /// The bound address of a started server (port 0 resolves to the real port).
    static func boundAddress(of transport: HTTP2ServerTransport.Posix, advertise host: String) async throws -> HostPort {
        let address = try await transport.listeningAddress
        guard let ipv4 = address.ipv4 else { throw ServerError.startup("the server bound \(address), not an IPv4 address") }
        return HostPort(host: host == "0.0.0.0" ? ipv4.host : host, port: ipv4.port)
    }
}
