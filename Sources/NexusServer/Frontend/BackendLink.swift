import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NexusProtocol
import NexusRuntime
import Synchronization

/// One request stream from this frontend to one backend (a `CallQueue`): calls queue here and a writer sends
/// everything queued as one batch message; replies are matched to callers by id. When the stream breaks,
/// every call still waiting is answered "unavailable" at once, so the caller can retry elsewhere; nothing
/// waits for a dead backend.
final class BackendLink: Sendable {
    typealias Completion = @Sendable (Nexus_Cluster_BackendReply) -> Void

    let address: String
    private let calls = CallQueue<Nexus_Cluster_BackendRequest, Nexus_Cluster_BackendReply>()
    private let nextID = Atomic<UInt64>(1)

    init(address: String, client: GRPCClient<HTTP2ClientTransport.Posix>, maxBatchBytes: Int) {
        self.address = address
        Task(executorPreference: EventLoops.shared) { [self] in
            var options = CallOptions.defaults
            options.waitForReady = false
            do {
                try await Nexus_Cluster_Backend.Client(wrapping: client).execute(options: options, requestProducer: { writer in
                    while let batch = await self.calls.nextBatch() {
                        // In messages the backend takes, however much has queued.
                        for chunk in batch.chunked(maxBytes: maxBatchBytes, bytes: \.approximateBytes) {
                            try await writer.write(.with { $0.requests = Array(chunk) })
                        }
                    }
                }, onResponse: { response in
                    for try await batch in response.messages {
                        for reply in batch.replies { self.calls.complete(id: reply.id, with: reply) }
                    }
                })
                self.fail("the backend ended the stream")
            } catch {
                self.fail("\(error)")
            }
        }
    }

    var isBroken: Bool { calls.isClosed }

    /// False when the link is broken (the caller makes a new one or tries another backend).
    func send(_ request: Nexus_Cluster_BackendRequest, completion: @escaping Completion) -> Bool {
        var request = request
        request.id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        return calls.send(request, id: request.id, completion: completion) == nil
    }

    /// Breaks the link: every waiting call is answered unavailable.
    func fail(_ reason: String) {
        for (id, completion) in calls.close(reason) {
            completion(.with {
                $0.id = id
                $0.code = InferenceError.unavailable("").statusCode
                $0.message = "backend \(address) is unreachable: \(reason)"
            })
        }
    }
}

/// A link per backend address, replaced when broken. Closed for good when the frontend's drain runs out
/// of time: every call still waiting, and every later one, is answered unavailable.
final class BackendLinks: Sendable {
    private struct State {
        var links: [String: BackendLink] = [:]
        var closedReason: String?
    }

    private let state = Mutex(State())
    private let clients: NodeClients

    init(limits: TransportLimits) { clients = NodeClients(limits: limits) }

    func call(_ request: Nexus_Cluster_BackendRequest, address: String) async -> Nexus_Cluster_BackendReply {
        await withCheckedContinuation { continuation in
            var reason = "backend \(address) is unreachable"
            for _ in 0..<2 {
                let link: BackendLink
                do {
                    link = try state.withLock { state in
                        if let closed = state.closedReason { throw ServerError.startup(closed) }
                        if let existing = state.links[address], !existing.isBroken { return existing }
                        let link = BackendLink(address: address, client: try clients.client(for: address),
                                               maxBatchBytes: clients.limits.batchPayloadBytes)
                        state.links[address] = link
                        return link
                    }
                } catch {
                    reason = "\(error)"
                    break
                }
                if link.send(request, completion: { continuation.resume(returning: $0) }) { return }
            }
            continuation.resume(returning: .with {
                $0.code = InferenceError.unavailable("").statusCode
                $0.message = reason
            })
        }
    }

    /// Closes links to backends no longer routed to.
    func retain(addresses: Set<String>) {
        let dropped = state.withLock { state -> [BackendLink] in
            let gone = state.links.filter { !addresses.contains($0.key) }
            for key in gone.keys { state.links[key] = nil }
            return Array(gone.values)
        }
        for link in dropped {
            link.fail("no longer routed to")
            clients.close(link.address)
        }
    }

    /// Answers every waiting call, and every later one, unavailable with `reason`.
    func closeAll(_ reason: String) {
        let all = state.withLock { state -> [BackendLink] in
            if state.closedReason == nil { state.closedReason = reason }
            defer { state.links = [:] }
            return Array(state.links.values)
        }
        for link in all { link.fail(reason) }
        clients.closeAll()
    }
}

extension Nexus_Cluster_BackendRequest {
    /// Its input's bytes plus a margin for ids, names and shape: enough to keep a batch under the message
    /// limit without serialising it twice.
    var approximateBytes: Int { input.data.count + sessionID.utf8.count + model.utf8.count + 256 }
}
