import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NexusCore
import NexusProtocol
import NexusRuntime
import Synchronization

/// `nexus frontend` (DESIGN.md §2, §3.6): serves the Open Inference Protocol, runs each request's
/// application tree, routes every model call to a backend, and reports request counts to the scheduler.
/// Applications and model interfaces come from the scheduler when the frontend registers, so every
/// frontend serves the same definitions.
public final class FrontendServer: Sendable {
    public struct Options: Sendable {
        public var listen: HostPort
        public var advertise: String?
        public var scheduler: HostPort

        public init(listen: HostPort, advertise: String?, scheduler: HostPort) {
            self.listen = listen
            self.advertise = advertise
            self.scheduler = scheduler
        }
    }

    struct Catalog: Sendable {
        var applications: [String: FrontendApplication] = [:]
        var registered = false
    }

    let options: Options
    let log = ServerLog("frontend")
    let clock = MonotonicClock()
    let routes = FrontendRoutes()
    let links: BackendLinks
    let catalog = Mutex(Catalog())
    /// Calls per "app/stage" since the last report.
    let counts = Mutex<[String: Int]>([:])
    let statistics = Mutex<[String: ApplicationStatistics]>([:])

    public init(options: Options) {
        self.options = options
        links = BackendLinks(log: log)
    }

    public func run(onListening: @Sendable (HostPort) -> Void = { _ in }) async throws {
        let transport = Transport.server(listen: options.listen)
        let server = GRPCServer(transport: transport, services: [InferenceService(frontend: self), FrontendControlService(frontend: self)])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            let bound = try await Transport.boundAddress(of: transport, advertise: options.listen.host)
            log.info("serving the Open Inference Protocol (gRPC) on \(bound)")
            onListening(bound)
            let control = ControlLoop(
                scheduler: options.scheduler,
                registration: .with {
                    $0.kind = .frontend
                    $0.address = options.advertise ?? bound.description
                },
                log: log,
                onRegistered: { reply in try self.learn(reply) },
                beat: { scheduler, nodeID in
                    let taken = self.counts.withLock { counts in
                        defer { counts = [:] }
                        return counts
                    }
                    let report = Nexus_Cluster_WorkloadReport.with {
                        $0.nodeID = nodeID
                        $0.counts = taken.keys.sorted().map { key in
                            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
                            return .with {
                                $0.application = parts[0]
                                $0.stage = parts.count > 1 ? parts[1] : ""
                                $0.requests = UInt64(taken[key]!)
                            }
                        }
                    }
                    return try await scheduler.reportWorkload(report).known
                })
            group.addTask { try await control.run() }
            try await withTaskCancellationHandler {
                try await Task.sleep(for: .seconds(1_000_000_000))
            } onCancel: {
                server.beginGracefulShutdown()
            }
        }
    }

    func learn(_ reply: Nexus_Cluster_RegisterReply) throws {
        var next = Catalog(registered: true)
        var models: [String: ModelInterface] = [:]
        for model in reply.models { models[model.name] = try ModelInterface(model) }
        for info in reply.applications { next.applications[info.name] = FrontendApplication(ServedApplication(info), models: models) }
        let names = next.applications.keys.sorted().joined(separator: ", ")
        catalog.withLock { $0 = next }
        log.info("serving applications: \(names)")
    }

    func updateRoutes(_ update: Nexus_Cluster_RouteUpdate) {
        routes.update(update)
        links.retain(addresses: Set(update.routes.flatMap { $0.targets.map(\.address) }))
        let sessions = update.routes.map { route in "\(route.sessionID) -> \(route.targets.map(\.nodeID))" }.joined(separator: ", ")
        log.info("routes version \(update.version): \(sessions.isEmpty ? "none" : sessions)")
    }

    // MARK: Requests

    func application(named name: String) -> FrontendApplication? {
        catalog.withLock { $0.applications[name] }
    }

    var applicationNames: [String] { catalog.withLock { $0.applications.keys.sorted() } }
    var isRegistered: Bool { catalog.withLock { $0.registered } }

    func run(_ application: FrontendApplication, input: CallInput, arrivalNs: Int64) async -> Result<ApplicationResult, InferenceError> {
        let runner = ApplicationRunner(served: application, caller: { stage, session, model, input, deadline in
            await self.call(stageKey: application.stageKeys[stage], session: session, model: model, input: input, deadlineNs: deadline)
        }, routes: routes)
        return await runner.run(input: input, arrivalNs: arrivalNs)
    }

    /// One model call of stage `stageKey` ("application/stage"): to the session's next backend by weighted
    /// round robin; once more elsewhere if that backend is unreachable or no longer runs the session, while
    /// the deadline allows.
    func call(stageKey: String, session: String, model: String, input: CallInput, deadlineNs: Int64) async -> Result<ApplicationRunner.CallOutput, InferenceError> {
        counts.withLock { $0[stageKey, default: 0] += 1 }
        var excluded: UInt64?
        // Built only on failure: the messages are off the path of a call that succeeds.
        var lastError: InferenceError?
        for _ in 0..<2 {
            guard let target = routes.pick(session: session, excluding: excluded) else { break }
            let sentNs = clock.nowNs()
            let remainingNs = deadlineNs - sentNs
            guard remainingNs > 0 else {
                return .failure(.deadlineExceeded("stage '\(stageKey)' has no time left before its deadline"))
            }
            let reply = await links.call(.with {
                $0.sessionID = session
                $0.model = model
                $0.budgetNs = remainingNs
                $0.input = input.message
            }, address: target.address)
            if reply.code == 0 {
                var outputs: [String: (shape: [Int], bytes: Data)] = [:]
                for output in reply.outputs { outputs[output.name] = (output.shape.map(Int.init), output.data) }
                return .success(.init(outputs: outputs, simulated: reply.runtime == "simulated",
                                      callNs: clock.nowNs() - sentNs, backendNs: reply.backendNs))
            }
            let error = InferenceError(statusCode: reply.code, message: reply.message)
            switch error {
            case .unavailable, .notFound:
                lastError = .unavailable("stage '\(stageKey)': \(reply.message)")
                excluded = target.nodeID
            default:
                return .failure(error)
            }
        }
        return .failure(lastError ?? .unavailable("no backend serves session '\(session)' (stage '\(stageKey)')"))
    }

    func record(application: String, result: Result<ApplicationResult, InferenceError>, durationNs: Int64) {
        statistics.withLock { stats in
            var entry = stats[application, default: ApplicationStatistics()]
            entry.record(success: (try? result.get()) != nil, durationNs: durationNs, nowNs: clock.nowNs())
            stats[application] = entry
        }
    }
}

/// Per-application counters for ModelStatistics.
struct ApplicationStatistics: Sendable {
    var successCount: UInt64 = 0
    var successNs: UInt64 = 0
    var failCount: UInt64 = 0
    var failNs: UInt64 = 0
    var lastInferenceMs: UInt64 = 0

    mutating func record(success: Bool, durationNs: Int64, nowNs: Int64) {
        if success {
            successCount += 1
            successNs += UInt64(max(0, durationNs))
        } else {
            failCount += 1
            failNs += UInt64(max(0, durationNs))
        }
        lastInferenceMs = UInt64(Date().timeIntervalSince1970 * 1000)
    }
}

struct FrontendControlService: Nexus_Cluster_Frontend.SimpleServiceProtocol {
    let frontend: FrontendServer

    func updateRoutes(request: Nexus_Cluster_RouteUpdate, context: ServerContext) async throws -> Nexus_Cluster_UpdateReply {
        frontend.updateRoutes(request)
        return .init()
    }
}
