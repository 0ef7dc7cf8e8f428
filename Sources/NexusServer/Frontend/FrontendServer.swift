import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NexusCore
import NexusProtocol
import NexusRuntime
import ServiceLifecycle
import Synchronization

/// `nexus frontend` (DESIGN.md §2, §3.6): serves the Open Inference Protocol, runs each request's
/// application tree, routes every model call to a backend, and reports request counts to the scheduler.
/// Applications and model interfaces come from the scheduler when the frontend registers, so every
/// frontend serves the same definitions.
///
/// A `Service`, with its control loop another (`services`). On graceful shutdown the control loop
/// unregisters, then this drains: ServerReady answers false and new requests UNAVAILABLE, the requests in
/// flight are answered as usual until the process's drain deadline (then the rest UNAVAILABLE), streams
/// end once what they read is answered, and it exits.
public final class FrontendServer: Service, Sendable, CustomStringConvertible {
    public struct Options: Sendable {
        public var listen: HostPort
        public var advertise: String?
        public var scheduler: SchedulerAddress
        public var limits: TransportLimits
        public var drain: DrainDeadline
        /// A call still unanswered this long after its budget ran out is answered DEADLINE_EXCEEDED (a live
        /// backend answers every call by then, with a result or an early drop); its link serves on.
        public var unansweredGraceNs: Int64
        /// Where to serve the HTTP/REST protocol (Triton's HTTP API, `HTTPFrontend`); nil: not at all.
        public var httpListen: HostPort?

        public static let defaultUnansweredGraceNs: Int64 = 200_000_000

        public init(listen: HostPort, advertise: String?, scheduler: SchedulerAddress,
                    limits: TransportLimits = .defaults, drain: DrainDeadline = DrainDeadline(timeoutNs: DrainDeadline.defaultTimeoutNs),
                    unansweredGraceNs: Int64 = defaultUnansweredGraceNs, httpListen: HostPort? = nil) {
            self.listen = listen
            self.advertise = advertise
            self.scheduler = scheduler
            self.limits = limits
            self.drain = drain
            self.unansweredGraceNs = unansweredGraceNs
            self.httpListen = httpListen
        }
    }

    struct Catalog: Sendable {
        var applications: [String: FrontendApplication] = [:]
        var registered = false
    }

    let options: Options
    let baseLogger = Logger(label: "frontend")
    let identity = NodeIdentity()
    let bound = BoundAddress()
    let httpBound = BoundAddress()
    let clock = MonotonicClock()
    let routes = FrontendRoutes()
    let links: BackendLinks
    let unreachable: UnreachableReports
    let admission = Admission()
    /// Client requests in flight; turns new ones away while draining.
    let gate = DrainGate()
    let catalog = Mutex(Catalog())
    /// Demand per "app/stage" since the last report.
    let demand = DemandCounts()
    let statistics = Mutex<[String: ApplicationStatistics]>([:])

    public init(options: Options) {
        self.options = options
        links = BackendLinks(limits: options.limits, unansweredGraceNs: options.unansweredGraceNs)
        unreachable = UnreachableReports(scheduler: options.scheduler, identity: identity, routes: routes,
                                         limits: options.limits, logger: baseLogger)
    }

    var logger: Logger { identity.tag(baseLogger) }
    public var description: String { baseLogger.label }

    /// The frontend and its control loop, in the order a service group runs them; the HTTP/REST listener
    /// first, so that on shutdown it stops last: while the frontend drains, HTTP requests get 503 as gRPC's
    /// get UNAVAILABLE.
    public var services: [any Service] { (httpService.map { [$0] } ?? []) + [self, controlLoop] }

    /// Waits until `run` has bound (port 0 resolved).
    public func listeningAddress() async throws -> HostPort { try await bound.value() }

    public func run() async throws {
        let transport = Transport.server(listen: options.listen, limits: options.limits,
                                         maxMessageBytes: options.limits.maxMessageBytes)
        let server = GRPCServer(transport: transport,
                                services: [InferenceService(frontend: self), FrontendControlService(frontend: self)])
        defer {
            links.closeAll("the frontend has stopped")
            unreachable.closeAll()
        }
        try await Transport.serve(server, transport: transport, advertise: options.listen.host, listening: { address in
            bound.set(address)
            logger.info("serving the Open Inference Protocol (gRPC) on \(address)")
        }, drain: drain)
    }

    /// Answers every request in flight (new ones get UNAVAILABLE), within the drain deadline; then ends
    /// the streams. After the deadline the calls still waiting on backends are answered UNAVAILABLE.
    func drain() async {
        let startedNs = clock.nowNs()
        let deadlineNs = options.drain.deadlineNs(nowNs: startedNs)
        let inFlight = gate.beginDraining()
        let withinMs = (deadlineNs - startedNs) / 1_000_000
        logger.info("draining: \(inFlight) requests in flight are answered (within \(withinMs) ms); new requests are answered UNAVAILABLE")
        if await !gate.waitUntilIdle(deadlineNs: deadlineNs, clock: clock) {
            logger.warning("drain timeout: the \(gate.inFlight) requests still in flight are answered UNAVAILABLE")
            links.closeAll("the frontend is shutting down and its drain time (--drain-timeout-s) ran out")
            // Every call waiting on a backend has its answer now; the requests finish at once.
            _ = await gate.waitUntilIdle(deadlineNs: clock.nowNs() + 5_000_000_000, clock: clock)
        }
        gate.streamsClosing.open()
        logger.info("drained in \((clock.nowNs() - startedNs) / 1_000_000) ms; \(gate.inFlight) requests left")
    }

    var controlLoop: ControlLoop {
        var loop = ControlLoop(
            scheduler: options.scheduler,
            registration: { [self] in
                let address = try await bound.value()
                return .with {
                    $0.kind = .frontend
                    $0.address = options.advertise ?? address.description
                }
            },
            limits: options.limits, identity: identity, logger: baseLogger,
            onRegistered: { [self] reply in try learn(reply) },
            beat: { [self] scheduler, nodeID in
                let roots = catalog.withLock { $0.applications.mapValues(\.rootStageKey) }
                let taken = demand.take(rootKeys: roots)
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
        loop.beatsPerBeacon = SchedulerConfig.reportsPerBeacon
        return loop
    }

    func learn(_ reply: Nexus_Cluster_RegisterReply) throws {
        var next = Catalog(registered: true)
        var models: [String: ModelInterface] = [:]
        for model in reply.models { models[model.name] = try ModelInterface(model) }
        for info in reply.applications { next.applications[info.name] = FrontendApplication(ServedApplication(info), models: models) }
        let names = next.applications.keys.sorted().joined(separator: ", ")
        catalog.withLock { $0 = next }
        routes.expectNewScheduler()
        logger.info("serving applications: \(names)")
    }

    func updateRoutes(_ update: Nexus_Cluster_RouteUpdate) {
        guard routes.update(update) else {
            logger.info("routes version \(update.version): stale (a later version was applied), ignored")
            return
        }
        links.retain(addresses: Set(update.routes.flatMap { $0.targets.map(\.address) }))
        let sessions = update.routes.map { route in "\(route.sessionID) -> \(route.targets.map(\.nodeID))" }.joined(separator: ", ")
        logger.info("routes version \(update.version): \(sessions.isEmpty ? "none" : sessions)")
    }

    // MARK: Requests

    func application(named name: String) -> FrontendApplication? {
        catalog.withLock { $0.applications[name] }
    }

    var applicationNames: [String] { catalog.withLock { $0.applications.keys.sorted() } }
    var isRegistered: Bool { catalog.withLock { $0.registered } }

    /// `priority`: Triton's, carried to every backend call of the request (`PriorityDeadlineQueue`).
    func run(_ application: FrontendApplication, input: CallInput, arrivalNs: Int64,
             deadlineCapNs: Int64 = .max, priority: UInt32 = 0) async -> Result<ApplicationResult, InferenceError> {
        let name = application.name
        let capacity = Admission.capacity(plannedRatePerSecond: routes.plannedRatePerSecond(rootKey: application.rootStageKey),
                                          latencySLOMs: application.served.spec.latencySLOMs)
        let admitted = admission.admit(name, capacity: capacity)
        demand.arrival(application: name, admitted: (try? admitted.get()) != nil)
        let ticket: AdaptiveConcurrencyLimit.Ticket
        switch admitted {
        case let .success(granted): ticket = granted
        case let .failure(refusal): return .failure(refusal)
        }
        let runner = ApplicationRunner(served: application, caller: { stage, session, model, input, deadline in
            let startedNs = self.clock.nowNs()
            defer { application.metrics.stageDuration[stage].recordNanoseconds(self.clock.nowNs() - startedNs) }
            return await self.call(stageKey: application.stageKeys[stage], session: session, model: model, input: input,
                                   deadlineNs: deadline, priority: priority)
        }, routes: routes)
        let result = await runner.run(input: input, arrivalNs: arrivalNs, deadlineCapNs: deadlineCapNs)
        let sloDeadlineNs = min(arrivalNs + Int64(application.served.spec.latencySLOMs * 1e6), deadlineCapNs)
        switch result {
        case .success: admission.release(name, ticket: ticket, missedSLO: clock.nowNs() > sloDeadlineNs)
        case let .failure(error): admission.release(name, ticket: ticket, missedSLO: error.missedForCapacity)
        }
        return result
    }

    /// One model call of stage `stageKey` ("application/stage"): to the session's next backend by weighted
    /// round robin. A backend that cannot be reached is skipped and reported to the scheduler at once, and
    /// the call goes to another backend of the session; with none left, it waits for the routes the
    /// scheduler sends once it has planned without that backend. All while the deadline allows.
    func call(stageKey: String, session: String, model: String, input: CallInput, deadlineNs: Int64,
              priority: UInt32 = 0) async -> Result<ApplicationRunner.CallOutput, InferenceError> {
        demand.call(stageKey: stageKey)
        // Built only on failure: the messages are off the path of a call that succeeds.
        var lastError: InferenceError?
        for _ in 0..<Self.maxAttempts {
            let seenVersion = routes.version
            guard let target = routes.pick(session: session) else {
                // No backend of the session is reachable now: wait for the next plan's routes.
                if await routes.waitForUpdate(after: seenVersion, deadlineNs: deadlineNs, clock: clock) { continue }
                break
            }
            let sentNs = clock.nowNs()
            let remainingNs = deadlineNs - sentNs
            guard remainingNs > 0 else { break }
            let outcome = await links.call(.with {
                $0.sessionID = session
                $0.model = model
                $0.budgetNs = remainingNs
                $0.input = input.message
                $0.priority = priority
            }, address: target.address)
            switch outcome {
            case let .overdue(reason):
                return .failure(.deadlineExceeded("stage '\(stageKey)': \(reason)"))
            case let .unreachable(reason, backendFault):
                lastError = .unavailable("stage '\(stageKey)': \(reason)")
                if backendFault { unreachable.report(backend: target.nodeID, reason: reason) }
                if links.isClosed { return .failure(lastError!) }
            case let .reply(reply) where reply.code == 0:
                var outputs: [String: (shape: [Int], bytes: Data)] = [:]
                for output in reply.outputs { outputs[output.name] = (output.shape.map(Int.init), output.data) }
                return .success(.init(outputs: outputs, simulated: reply.runtime == "simulated",
                                      callNs: clock.nowNs() - sentNs, backendNs: reply.backendNs, timing: reply.batchTiming))
            case let .reply(reply):
                let error = InferenceError(statusCode: reply.code, message: reply.message)
                guard case .unavailable = error else {
                    guard case .notFound = error else { return .failure(error) }
                    // The backend no longer runs the session: the routes that say so are on their way.
                    lastError = .unavailable("stage '\(stageKey)': \(reply.message)")
                    _ = await routes.waitForUpdate(after: seenVersion, deadlineNs: deadlineNs, clock: clock)
                    continue
                }
                // Draining or stopping: another backend, or the routes without this one.
                lastError = .unavailable("stage '\(stageKey)': \(reply.message)")
                routes.markUnreachable(target.nodeID)
            }
        }
        if clock.nowNs() >= deadlineNs, lastError == nil {
            return .failure(.deadlineExceeded("stage '\(stageKey)' has no time left before its deadline"))
        }
        return .failure(lastError ?? .unavailable("no backend serves session '\(session)' (stage '\(stageKey)')"))
    }

    /// Tries of one call, across backends and route updates.
    static let maxAttempts = 6

    func record(application: String, result: Result<ApplicationResult, InferenceError>, durationNs: Int64) {
        statistics.withLock { stats in
            var entry = stats[application, default: ApplicationStatistics()]
            entry.record(result, durationNs: durationNs)
            stats[application] = entry
        }
    }
}

struct FrontendControlService: Nexus_Cluster_Frontend.SimpleServiceProtocol {
    let frontend: FrontendServer

    func updateRoutes(request: Nexus_Cluster_RouteUpdate, context: ServerContext) async throws -> Nexus_Cluster_UpdateReply {
        frontend.updateRoutes(request)
        return .init()
    }
}
