import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NexusCore
import NexusProtocol
import NexusRuntime
import Synchronization

/// `nexus backend` (DESIGN.md §2): the executor of one device behind gRPC. It runs exactly the model table
/// the scheduler pushed (Clockwork's "workers execute what they are told") and reports utilisation every
/// beacon; frontends stream it batches of requests.
public final class BackendServer: Sendable {
    public struct Options: Sendable {
        public var listen: HostPort
        /// The address to register (default: the bound one).
        public var advertise: String?
        public var scheduler: HostPort
        public var device: String

        public init(listen: HostPort, advertise: String?, scheduler: HostPort, device: String) {
            self.listen = listen
            self.advertise = advertise
            self.scheduler = scheduler
            self.device = device
        }
    }

    let options: Options
    let executor: BackendExecutor
    /// "torch" or "simulated", on every reply.
    let runtimeLabel: String
    let clock = MonotonicClock()
    let log: ServerLog
    let tableVersion = Mutex<UInt64>(0)
    let lastBusy = Mutex<(busyNs: Int64, atNs: Int64)>((0, 0))

    public init(options: Options, executor: BackendExecutor) {
        self.options = options
        self.executor = executor
        runtimeLabel = executor.runtime.isSimulated ? "simulated" : "torch"
        log = ServerLog("backend(\(options.device))")
    }

    public func run(onListening: @Sendable (HostPort) -> Void = { _ in }) async throws {
        let transport = Transport.server(listen: options.listen)
        let server = GRPCServer(transport: transport, services: [BackendService(server: self)])
        defer { executor.shutdown() }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            let bound = try await Transport.boundAddress(of: transport, advertise: options.listen.host)
            let address = options.advertise ?? bound.description
            log.info("listening on \(bound) on \(executor.runtime.deviceDescription)")
            onListening(bound)
            let control = ControlLoop(
                scheduler: options.scheduler,
                registration: .with {
                    $0.kind = .backend
                    $0.address = address
                    $0.device = options.device
                    $0.runtime = runtimeLabel
                },
                log: log,
                onRegistered: { _ in },
                beat: { scheduler, nodeID in
                    let stats = self.executor.snapshot()
                    let utilization = self.utilization(busyNs: stats.busyNs)
                    return try await scheduler.heartbeat(.with {
                        $0.nodeID = nodeID
                        $0.utilization = utilization
                        $0.completed = UInt64(stats.completed)
                        $0.dropped = UInt64(stats.dropped)
                    }).known
                })
            group.addTask { try await control.run() }
            try await withTaskCancellationHandler {
                try await Task.sleep(for: .seconds(1_000_000_000))
            } onCancel: {
                server.beginGracefulShutdown()
            }
        }
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
                    continuation.resume(throwing: RPCError(code: .failedPrecondition, message: "model table version \(update.version): \(error)"))
                }
            }
        }
        tableVersion.withLock { $0 = update.version }
        let sessions = table.sessions.map { "\($0.sessionID) b\($0.maxBatch)" }.joined(separator: ", ")
        log.info("model table version \(update.version) applied in \((clock.nowNs() - started) / 1_000_000) ms: [\(sessions)]")
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
                                deadlineNs: receivedNs + message.budgetNs)
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

    func execute(request: RPCAsyncSequence<Nexus_Cluster_RequestBatch, any Error>, response: RPCWriter<Nexus_Cluster_ReplyBatch>,
                 context: ServerContext) async throws {
        let outbox = Outbox<Nexus_Cluster_BackendReply>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while let replies = await outbox.next() {
                    try await response.write(.with { $0.replies = replies })
                }
            }
            do {
                for try await batch in request {
                    let now = server.clock.nowNs()
                    for message in batch.requests {
                        outbox.expect()
                        let id = message.id
                        server.executor.submit(server.request(message, receivedNs: now)) { outcome in
                            var reply = server.reply(id: id, outcome: outcome)
                            reply.backendNs = server.clock.nowNs() - now
                            outbox.add(reply)
                        }
                    }
                }
            } catch {
                // The frontend went away: what it sent still runs, but nobody reads the answers.
                group.cancelAll()
                return
            }
            outbox.finishInput()
            try await group.waitForAll()
        }
    }
}
