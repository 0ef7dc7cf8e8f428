import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// Long-lived gRPC clients keyed by address, each with its connections running in a task; closed when the
/// node they reach leaves. One per process side that calls others (the scheduler's pushes, the frontend's
/// backend links).
final class NodeClients: Sendable {
    private let clients = Mutex<[String: (client: GRPCClient<HTTP2ClientTransport.Posix>, task: Task<Void, Never>)]>([:])
    let limits: TransportLimits

    init(limits: TransportLimits) { self.limits = limits }

    func client(for address: String) throws -> GRPCClient<HTTP2ClientTransport.Posix> {
        try clients.withLock { clients in
            if let existing = clients[address] { return existing.client }
            let client = try Transport.client(try HostPort(parsing: address, flag: "address"), limits: limits)
            let task = Task(executorPreference: EventLoops.shared) { _ = try? await client.runConnections() }
            clients[address] = (client, task)
            return client
        }
    }

    func close(_ address: String) {
        let removed = clients.withLock { $0.removeValue(forKey: address) }
        removed?.client.beginGracefulShutdown()
    }

    func closeAll() {
        let all = clients.withLock { clients in
            defer { clients = [:] }
            return Array(clients.values)
        }
        for entry in all { entry.client.beginGracefulShutdown() }
    }

    var addresses: Set<String> { clients.withLock { Set($0.keys) } }
}
