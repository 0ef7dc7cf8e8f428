import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NexusProtocol
import NexusRuntime
import Synchronization

/// What a call on a link came to: the backend's reply, or no reply because the link is broken (the
/// stream failed, or a call went unanswered past its budget and grace: the backend is gone or stuck).
enum LinkReply: Sendable {
    case reply(Nexus_Cluster_BackendReply)
    /// `backendFault`: the backend failed (worth reporting to the scheduler), not this frontend, which closed
    /// the link itself (the backend left the routes, or the frontend is shutting down).
    case unreachable(reason: String, backendFault: Bool)
    /// No reply within the call's budget and `unansweredGraceNs`: the backend is alive (its link answers pings)
    /// but has not answered this call, and maybe never will; the link serves on.
    case overdue(reason: String)
}

/// One request stream from this frontend to one backend (a `CallQueue`): calls queue here and a writer sends
/// everything queued as one batch message; replies are matched to callers by id. When the stream breaks,
/// every call still waiting is answered `unreachable` at once, so the caller can retry elsewhere; nothing
/// waits for a dead backend. A partitioned backend breaks no stream: the link's connection pings every
/// `--link-keepalive-ms` and closes when a ping goes unanswered `--link-timeout-ms` (`forBackendLinks`), which
/// breaks the stream. A call still unanswered `unansweredGraceNs` after its budget ran out is answered
/// `overdue` by a watchdog, alone: the link and its other calls go on. (The watchdog used to break the whole
/// link, which let one 60 MB request, slow to transfer, fail every small call on the link beside it.)
final class BackendLink: Sendable {
    typealias Completion = @Sendable (LinkReply) -> Void

    let address: String
    private let calls = CallQueue<Nexus_Cluster_BackendRequest, LinkReply>()
    private let nextID = Atomic<UInt64>(1)
    let unansweredGraceNs: Int64
    private let clock = MonotonicClock()
    /// How often the watchdog looks for overdue calls.
    static let watchdogPeriod = Duration.milliseconds(20)

    init(address: String, client: GRPCClient<HTTP2ClientTransport.Posix>, maxBatchBytes: Int, unansweredGraceNs: Int64) {
        self.address = address
        self.unansweredGraceNs = unansweredGraceNs
        Task(executorPreference: EventLoops.shared) { [self] in await watch() }
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
                        for reply in batch.replies { self.calls.complete(id: reply.id, with: .reply(reply)) }
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
        let budgetNs = max(0, request.budgetNs)
        let dueNs = clock.nowNs() + budgetNs + unansweredGraceNs
        return calls.send(request, id: request.id, dueNs: dueNs, completion: completion) == nil
    }

    /// Breaks the link: every waiting call is answered unreachable.
    func fail(_ reason: String, backendFault: Bool = true) {
        for (_, completion) in calls.close(reason) {
            completion(.unreachable(reason: "backend \(address): \(reason)", backendFault: backendFault))
        }
    }

    /// Answers the calls overdue by their budget and grace, one by one; ends with the link.
    private func watch() async {
        while !calls.isClosed {
            try? await Task.sleep(for: Self.watchdogPeriod)
            for (_, completion) in calls.expireOverdue(nowNs: clock.nowNs()) {
                completion(.overdue(reason: "backend \(address) has not answered \(unansweredGraceNs / 1_000_000) ms after the call's deadline"))
            }
        }
    }
}

/// Two links per backend address (two streams on one connection), replaced when broken: calls whose input
/// is `bulkBytes` or more go on the second, so that a 60 MB frame, which takes hundreds of milliseconds to
/// cross, does not hold up the small calls queued behind it on one stream (HTTP/2 interleaves the two).
/// Closed for good when the frontend's drain runs out of time: every call still waiting, and every later
/// one, is answered unavailable.
final class BackendLinks: Sendable {
    private struct State {
        var links: [String: BackendLink] = [:]
        var closedReason: String?
    }

    private let state = Mutex(State())
    private let clients: NodeClients

    private let unansweredGraceNs: Int64

    init(limits: TransportLimits, unansweredGraceNs: Int64) {
        clients = NodeClients(limits: limits.forBackendLinks)
        self.unansweredGraceNs = unansweredGraceNs
    }

    /// Closed for good by `closeAll`.
    var isClosed: Bool { state.withLock { $0.closedReason != nil } }

    /// Calls with at least this many input bytes take the bulk link.
    static let bulkBytes = 1 << 20

    /// The key of the link a call takes: its backend's address, with "#bulk" for a large call.
    static func linkKey(address: String, inputBytes: Int) -> String {
        inputBytes >= bulkBytes ? address + "#bulk" : address
    }

    func call(_ request: Nexus_Cluster_BackendRequest, address: String) async -> LinkReply {
        await withCheckedContinuation { continuation in
            var reason = "backend \(address) is unreachable"
            let key = Self.linkKey(address: address, inputBytes: request.input.data.count)
            for _ in 0..<2 {
                let link: BackendLink
                do {
                    link = try state.withLock { state in
                        if let closed = state.closedReason { throw ServerError.startup(closed) }
                        if let existing = state.links[key], !existing.isBroken { return existing }
                        let link = BackendLink(address: address, client: try clients.client(for: address),
                                               maxBatchBytes: clients.limits.batchPayloadBytes,
                                               unansweredGraceNs: unansweredGraceNs)
                        state.links[key] = link
                        return link
                    }
                } catch {
                    reason = "\(error)"
                    break
                }
                if link.send(request, completion: { continuation.resume(returning: $0) }) { return }
            }
            continuation.resume(returning: .unreachable(reason: reason, backendFault: !isClosed))
        }
    }

    /// Closes links to backends no longer routed to.
    func retain(addresses: Set<String>) {
        let dropped = state.withLock { state -> [BackendLink] in
            let gone = state.links.filter { !addresses.contains($0.value.address) }
            for key in gone.keys { state.links[key] = nil }
            return Array(gone.values)
        }
        for link in dropped {
            link.fail("no longer routed to", backendFault: false)
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
        for link in all { link.fail(reason, backendFault: false) }
        clients.closeAll()
    }
}

extension Nexus_Cluster_BackendRequest {
    /// Its input's bytes plus a margin for ids, names and shape: enough to keep a batch under the message
    /// limit without serialising it twice.
    var approximateBytes: Int { input.data.count + sessionID.utf8.count + model.utf8.count + 256 }
}
