import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NexusCore
import NexusProtocol
import NexusRuntime
import ServiceLifecycle
import Synchronization

/// `nexus backend` (DESIGN.md §2): the executor of one device behind gRPC. It runs exactly the model table
/// the scheduler pushed (Clockwork's "workers execute what they are told") and reports utilisation every
/// beacon; frontends stream it batches of requests.
///
/// A `Service`, with its control loop another (`services`). On graceful shutdown the control loop
/// unregisters first (the scheduler plans without this backend at once), then this drains: new calls are
/// answered UNAVAILABLE (a frontend retries them elsewhere), queued batches run to the end, or until the
/// process's drain deadline, after which what is left is answered UNAVAILABLE; then the frontends' streams
/// are closed and it exits.
public final class BackendServer: Service, Sendable, CustomStringConvertible {
    public struct Options: Sendable {
        public var listen: HostPort
        /// The address to register (default: the bound one).
        public var advertise: String?
        public var scheduler: SchedulerAddress
        public var device: String
        public var limits: TransportLimits
        public var drain: DrainDeadline

        public init(listen: HostPort, advertise: String?, scheduler: SchedulerAddress, device: String,
                    limits: TransportLimits = .defaults,
                    drain: DrainDeadline = DrainDeadline(timeoutNs: DrainDeadline.defaultTimeoutNs)) {
            self.listen = listen
            self.advertise = advertise
            self.scheduler = scheduler
            self.device = device
            self.limits = limits
            self.drain = drain
        }
    }

    let options: Options
    let executor: BackendExecutor
    /// "torch" or "simulated", on every reply.
    let runtimeLabel: String
    let clock = MonotonicClock()
    let baseLogger: Logger
    let identity = NodeIdentity()
    let bound = BoundAddress()
    /// Opens when the frontends' streams must end: the executor has answered everything it took.
    let streamsClosing = Latch()
    let tableVersion = Mutex<UInt64>(0)
    let lastBusy = Mutex<(busyNs: Int64, atNs: Int64)>((0, 0))

    public init(options: Options, executor: BackendExecutor) {
        self.options = options
        self.executor = executor
        runtimeLabel = executor.runtime.isSimulated ? "simulated" : "torch"
        baseLogger = Logger(label: "backend(\(options.device))")
    }

    var logger: Logger { identity.tag(baseLogger) }
    public var description: String { baseLogger.label }

    /// The backend and its control loop, in the order a service group runs them.
    public var services: [any Service] { [self, controlLoop] }

    public func run() async throws {
        let transport = Transport.server(listen: options.listen, limits: options.limits,
                                         maxMessageBytes: options.limits.batchMessageBytes,
                                         minClientPingInterval: .milliseconds(TransportLimits.minimumLinkKeepaliveMs / 2))
        let server = GRPCServer(transport: transport, services: [BackendService(server: self)])
        defer { executor.shutdown() }
        try await Transport.serve(server, transport: transport, advertise: options.listen.host, listening: { address in
            bound.set(address)
            logger.info("listening on \(address) on \(executor.runtime.deviceDescription)")
        }, drain: drain)
    }

    /// Stops taking calls, runs what is queued until the drain deadline, answers the rest UNAVAILABLE,
    /// then ends the frontends' streams.
    func drain() async {
        let startedNs = clock.nowNs()
        let deadlineNs = options.drain.deadlineNs(nowNs: startedNs)
        let before = executor.snapshot()
        let withinMs = (deadlineNs - startedNs) / 1_000_000
        logger.info("draining: \(executor.heldCount()) requests queued run to the end (within \(withinMs) ms); new ones are answered UNAVAILABLE")
        // The executor's shutdown blocks until its device thread has stopped: off the event loops.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                self.executor.shutdown(finishingQueuedUntilNs: deadlineNs)
                continuation.resume()
            }
        }
        streamsClosing.open()
        let after = executor.snapshot()
        let tookMs = (clock.nowNs() - startedNs) / 1_000_000
        let (completed, dropped) = (after.completed - before.completed, after.dropped - before.dropped)
        let unavailable = after.unavailable - before.unavailable
        logger.info("drained in \(tookMs) ms: \(completed) completed, \(dropped) dropped (deadline), \(unavailable) answered UNAVAILABLE")
    }

    var controlLoop: ControlLoop {
        ControlLoop(
            scheduler: options.scheduler,
            registration: { [self] in
                let address = try await bound.value()
                return .with {
                    $0.kind = .backend
                    $0.address = options.advertise ?? address.description
                    $0.device = options.device
                    $0.runtime = runtimeLabel
                }
            },
            limits: options.limits, identity: identity, logger: baseLogger,
            onRegistered: { _ in },
            beat: { [self] scheduler, nodeID in
                let stats = executor.snapshot()
                let utilization = utilization(busyNs: stats.busyNs)
                return try await scheduler.heartbeat(.with {
                    $0.nodeID = nodeID
                    $0.utilization = utilization
                    $0.completed = UInt64(stats.completed)
                    $0.dropped = UInt64(stats.dropped)
                }).known
            })
    }

    /// Busy fraction since the last heartbeat.
    func utilization(busyNs: Int64) -> Double {
        let now = clock.nowNs()
        return lastBusy.withLock { last in
            defer { last = (busyNs, now) }
            guard last.atNs > 0, now > last.atNs else { return 0 }
            return min(1, Double(busyNs - last.busyNs) / Double(now - last.atNs))
        }
    }

    func apply(_ update: Nexus_Cluster_ModelTableUpdate) async throws {
        let table = ModelTable(update)
        let started = clock.nowNs()
        // Loading models blocks for seconds: off the gRPC threads.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            Thread.detachNewThread {
                do {
                    try self.executor.apply(table)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: ServerError.tableNotApplied("model table version \(update.version): \(error)"))
                }
            }
        }
        tableVersion.withLock { $0 = update.version }
        let sessions = table.sessions.map { "\($0.sessionID) b\($0.maxBatch)" }.joined(separator: ", ")
        logger.info("model table version \(update.version) applied in \((clock.nowNs() - started) / 1_000_000) ms: [\(sessions)]")
    }

    func request(_ message: Nexus_Cluster_BackendRequest, receivedNs: Int64) -> InferenceRequest {
        let input: InferenceInput
        if message.input.dtype == "JPEG" {
            input = .jpeg([UInt8](message.input.data))
        } else if let dtype = TensorDType(rawValue: message.input.dtype) {
            input = .tensor(dtype: dtype, shape: message.input.shape.map(Int.init), bytes: [UInt8](message.input.data))
        } else {
            // The decoder names the unknown datatype; an empty shape of UINT8 always fails its check.
            input = .tensor(dtype: .uint8, shape: [], bytes: [])
        }
        return InferenceRequest(sessionID: message.sessionID, model: message.model, input: input,
                                deadlineNs: receivedNs + message.budgetNs, priority: message.priority)
    }

    func reply(id: UInt64, outcome: InferenceOutcome) -> Nexus_Cluster_BackendReply {
        .with { reply in
            reply.id = id
            reply.runtime = runtimeLabel
            switch outcome {
            case let .success(outputs):
                reply.outputs = outputs.map { output in
                    .with {
                        $0.name = output.name
                        $0.shape = output.shape.map(Int64.init)
                        $0.data = output.values.withUnsafeBytes { Data($0) }
                    }
                }
            case let .failure(error):
                reply.code = error.statusCode
                reply.message = error.message
            }
        }
    }
}

struct BackendService: Nexus_Cluster_Backend.SimpleServiceProtocol {
    let server: BackendServer

    func updateModelTable(request: Nexus_Cluster_ModelTableUpdate, context: ServerContext) async throws -> Nexus_Cluster_UpdateReply {
        try await server.apply(request)
        return .init()
    }

    func ping(request: Nexus_Cluster_PingRequest, context: ServerContext) async throws -> Nexus_Cluster_PingReply {
        .with { $0.nodeID = server.identity.current ?? 0 }
    }

    func execute(request: RPCAsyncSequence<Nexus_Cluster_RequestBatch, any Error>, response: RPCWriter<Nexus_Cluster_ReplyBatch>,
                 context: ServerContext) async throws {
        let outbox = Outbox<Nexus_Cluster_BackendReply>()
        let maxBytes = server.options.limits.batchPayloadBytes
        let ending = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Everything answered since the last write, in messages within the transport's limit.
                while let replies = await outbox.next() {
                    for chunk in replies.chunked(maxBytes: maxBytes, bytes: \.approximateBytes) {
                        try await response.write(.with { $0.replies = Array(chunk) })
                    }
                }
            }
            let ending = await readMessages(request, until: server.streamsClosing) { [server] batch in
                let now = server.clock.nowNs()
                for message in batch.requests {
                    outbox.expect()
                    let id = message.id
                    server.executor.submit(server.request(message, receivedNs: now), timed: { outcome, timing in
                        var reply = server.reply(id: id, outcome: outcome)
                        reply.backendNs = server.clock.nowNs() - now
                        if let timing { reply.setBatchTiming(timing) }
                        outbox.add(reply)
                    })
                }
            }
            if case .failed = ending {
                // The frontend went away: what it sent still runs, but nobody reads the answers.
                group.cancelAll()
                return ending
            }
            outbox.finishInput()
            try await group.waitForAll()
            return ending
        }
        if case .closed = ending {
            throw InferenceError.unavailable(
                "backend \(server.options.device) is shutting down; every call it read was answered")
        }
    }
}

extension Nexus_Cluster_BackendReply {
    /// Its outputs' bytes plus a margin for names, shapes and framing: enough to keep a batch under the
    /// message limit without serialising it twice.
    var approximateBytes: Int { outputs.reduce(256) { $0 + $1.data.count + 64 } + message.utf8.count }
}
