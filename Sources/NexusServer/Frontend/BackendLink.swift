import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NexusProtocol
import NexusRuntime
import Synchronization

/// One request stream from this frontend to one backend. Calls queue here and a writer sends everything
/// queued as one batch message; replies are matched to callers by id. When the stream breaks, every call
/// still waiting is answered "unavailable" at once, so the caller can retry elsewhere; nothing waits for
/// a dead backend.
final class BackendLink: Sendable {
    typealias Completion = @Sendable (Nexus_Cluster_BackendReply) -> Void

    struct State {
        var pending: [UInt64: Completion] = [:]
        var queue: [Nexus_Cluster_BackendRequest] = []
        var waiter: CheckedContinuation<Void, Never>?
        var broken = false
        var nextID: UInt64 = 1
    }

    let address: String
    private let state = Mutex(State())

    init(address: String, client: GRPCClient<HTTP2ClientTransport.Posix>, log: ServerLog) {
        self.address = address
        Task(executorPreference: EventLoops.shared) { [self] in
            var options = CallOptions.defaults
            options.waitForReady = false
            do {
                try await Nexus_Cluster_Backend.Client(wrapping: client).execute(options: options, requestProducer: { writer in
                    while let batch = await self.nextBatch() {
                        try await writer.write(.with { $0.requests = batch })
                    }
                }, onResponse: { response in
                    for try await batch in response.messages {
                        for reply in batch.replies { self.complete(reply) }
                    }
                })
                self.fail("the backend ended the stream")
            } catch {
                self.fail("\(error)")
            }
        }
    }

    var isBroken: Bool { state.withLock { $0.broken } }

    /// False when the link is broken (the caller makes a new one or tries another backend).
    func send(_ request: Nexus_Cluster_BackendRequest, completion: @escaping Completion) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.broken else { return (false, nil) }
            var request = request
            request.id = state.nextID
            state.nextID += 1
            state.pending[request.id] = completion
            state.queue.append(request)
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return accepted
    }

    private func nextBatch() async -> [Nexus_Cluster_BackendRequest]? {
        while true {
            let (batch, broken) = state.withLock { state -> ([Nexus_Cluster_BackendRequest], Bool) in
                defer { state.queue = [] }
                return (state.queue, state.broken)
            }
            if broken { return nil }
            if !batch.isEmpty { return batch }
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if !state.queue.isEmpty || state.broken { return true }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        }
    }

    private func complete(_ reply: Nexus_Cluster_BackendReply) {
        let completion = state.withLock { $0.pending.removeValue(forKey: reply.id) }
        completion?(reply)
    }

    /// Breaks the link: every waiting call is answered unavailable.
    func fail(_ reason: String) {
        let (pending, waiter) = state.withLock { state -> ([UInt64: Completion], CheckedContinuation<Void, Never>?) in
            state.broken = true
            defer {
                state.pending = [:]
                state.queue = []
                state.waiter = nil
            }
            return (state.pending, state.waiter)
        }
        waiter?.resume()
        for (id, completion) in pending {
            completion(.with {
                $0.id = id
                $0.code = 14
                $0.message = "backend \(address) is unreachable: \(reason)"
            })
        }
    }
}

/// A link per backend address, replaced when broken.
final class BackendLinks: Sendable {
    private let links = Mutex<[String: BackendLink]>([:])
    private let clients = NodeClients()
    let log: ServerLog

    init(log: ServerLog) { self.log = log }

    func call(_ request: Nexus_Cluster_BackendRequest, address: String) async -> Nexus_Cluster_BackendReply {
        await withCheckedContinuation { continuation in
            for _ in 0..<2 {
                let link: BackendLink
                do {
                    link = try links.withLock { links in
                        if let existing = links[address], !existing.isBroken { return existing }
                        let link = BackendLink(address: address, client: try clients.client(for: address), log: log)
                        links[address] = link
                        return link
                    }
                } catch {
                    break
                }
                if link.send(request, completion: { continuation.resume(returning: $0) }) { return }
            }
            continuation.resume(returning: .with {
                $0.code = 14
                $0.message = "backend \(address) is unreachable"
            })
        }
    }

    /// Closes links to backends no longer routed to.
    func retain(addresses: Set<String>) {
        let dropped = links.withLock { links -> [BackendLink] in
            let gone = links.filter { !addresses.contains($0.key) }
            for key in gone.keys { links[key] = nil }
            return Array(gone.values)
        }
        for link in dropped {
            link.fail("no longer routed to")
            clients.close(link.address)
        }
    }
}
