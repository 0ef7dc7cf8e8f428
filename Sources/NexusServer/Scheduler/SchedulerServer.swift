import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NexusConfig
import NexusCore
import NexusProtocol
import NexusRuntime
import ServiceLifecycle
import Synchronization

/// `nexus scheduler` (DESIGN.md §2): the control plane. A thin shell around `SchedulerState`: gRPC events
/// and a beacon timer go in with the time, and every change of the assignment is pushed — model tables
/// to backends first, routes to frontends once every backend has its table, so a frontend never sends a
/// session to a backend that has not loaded it.
///
/// A `Service` (its beacon timer another, `beaconLoop`): on graceful shutdown it stops taking calls and
/// ends once the calls it has are answered; nodes keep serving without it and register again when a
/// scheduler is back.
public final class SchedulerServer: Service, Sendable, CustomStringConvertible {
    public struct Options: Sendable {
        public var listen: HostPort
        public var config: SchedulerConfig
        public var limits: TransportLimits

        public init(listen: HostPort, config: SchedulerConfig, limits: TransportLimits = .defaults) {
            self.listen = listen
            self.config = config
            self.limits = limits
        }
    }

    let options: Options
    let state: Mutex<SchedulerState>
    let models: [ModelInterface]
    let clock = MonotonicClock()
    let logger = Logger(label: "scheduler")
    let clients: NodeClients
    /// Per node: the assignment version it acknowledged, and the version in flight to it.
    let pushes = Mutex<[UInt64: (acked: UInt64, inFlight: UInt64?)]>([:])
    let bound = BoundAddress()
    /// Backends being probed after a frontend's report, so concurrent reports share one probe.
    let probing = Mutex<Set<UInt64>>([])
    let metrics = SchedulerMetrics()

    /// `declaredStageRates`: what the first plan is sized for (per application, per stage), else the
    /// scheduler's minimum rate until the frontends report.
    public init(options: Options, applications: [ServedApplication], models: [ModelSpec], planner: any ClusterPlanning,
                declaredStageRates: [[Double]]? = nil) {
        self.options = options
        self.models = models.map(ModelInterface.init)
        clients = NodeClients(limits: options.limits)
        state = Mutex(SchedulerState(applications: applications, planner: planner, config: options.config,
                                     declaredStageRates: declaredStageRates))
    }

    public var description: String { logger.label }

    /// Where it listens, once `run` has bound.
    public var address: HostPort? { bound.current }

    /// Waits until `run` has bound (port 0 resolved).
    public func listeningAddress() async throws -> HostPort { try await bound.value() }

    /// The scheduler and its beacon timer, in the order a service group runs them.
    public var services: [any Service] { [self, BeaconLoop(scheduler: self)] }

    /// Serves until graceful shutdown (or cancellation).
    public func run() async throws {
        let transport = Transport.server(listen: options.listen, limits: options.limits,
                                         maxMessageBytes: options.limits.batchMessageBytes)
        let server = GRPCServer(transport: transport, services: [SchedulerService(server: self)])
        defer { clients.closeAll() }
        try await Transport.serve(server, transport: transport, advertise: options.listen.host, listening: { address in
            bound.set(address)
            let config = options.config
            logger.info("listening on \(address); beacon \(config.beaconNs / 1_000_000) ms, a node silent for \(config.deadAfterBeacons) beacons is dead")
        }, drain: {
            logger.info("shutting down: no new calls; nodes keep serving and register again with the next scheduler")
        })
    }

    /// The beacon timer: every beacon, the dead are found, rates folded in, a plan made when due, and
    /// pushes that failed retried. Stops on graceful shutdown.
    struct BeaconLoop: Service, CustomStringConvertible {
        let scheduler: SchedulerServer
        var description: String { "scheduler beacons" }

        func run() async throws {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                do {
                    try await cancelWhenGracefulShutdown { [scheduler] in
                        try await Task.sleep(for: .nanoseconds(scheduler.options.config.beaconNs))
                    }
                } catch {
                    return
                }
                await scheduler.beacon()
            }
        }
    }

    func beacon() async {
        // A backend late with its beats but still answering is busy, not dead: probe before declaring.
        await probeOverdueBackends()
        let now = clock.nowNs()
        do {
            let changed = try planning { try $0.beacon(nowNs: now) }
            if changed { logPlan() }
        } catch {
            logger.error("planning failed: \(error)")
        }
        state.withLock { metrics.observe($0) }
        pushPending()
    }

    /// Runs `body` on the state under its lock, and records the planning it did (`SchedulerMetrics`).
    func planning<R: Sendable, E: Error>(_ body: (inout SchedulerState) throws(E) -> R) throws(E) -> R {
        let (result, plannedNs, cause) = try state.withLock { (state) throws(E) -> (R, Int64?, PlanCause?) in
            let (plans, version, startedNs) = (state.planCount, state.assignment.version, clock.nowNs())
            let result = try body(&state)
            let changed = state.assignment.version != version ? state.lastPlanCause : nil
            return (result, state.planCount != plans ? clock.nowNs() - startedNs : nil, changed)
        }
        if let plannedNs { metrics.planned(durationNs: plannedNs, changedBy: cause) }
        return result
    }

    func logPlan() {
        let (reason, assignment, plans) = state.withLock { ($0.lastPlanReason, $0.assignment, $0.planCount) }
        let summary = assignment.tables.keys.sorted().map { node in
            "node \(node): [\(assignment.tables[node]!.sessions.map { "\($0.sessionID) b\($0.maxBatch)" }.joined(separator: ", "))]"
        }.joined(separator: "; ")
        let infeasible = assignment.infeasible.isEmpty ? "" : "; infeasible: " + assignment.infeasible.joined(separator: "; ")
        let placed = summary.isEmpty ? "no backends" : summary
        logger.info("plan \(plans) version \(assignment.version) (\(reason)): \(placed)\(infeasible)")
    }

    // MARK: Pushing

    /// Sends the current assignment to every node that has not acknowledged it; called after each change,
    /// each acknowledgement and each beacon (which retries failed pushes).
    func pushPending() {
        let (assignment, nodes) = state.withLock { ($0.assignment, $0.nodes) }
        let version = assignment.version
        let backends = nodes.values.filter { $0.kind == .backend }
        let backendsDone = pushes.withLock { pushes in backends.allSatisfy { pushes[$0.id]?.acked == version } }
        for node in nodes.values.sorted(by: { $0.id < $1.id }) {
            if node.kind == .frontend && !backendsDone { continue }
            let start = pushes.withLock { pushes -> Bool in
                let entry = pushes[node.id] ?? (acked: 0, inFlight: nil)
                guard entry.acked != version, entry.inFlight == nil else { return false }
                pushes[node.id] = (entry.acked, version)
                return true
            }
            guard start else { continue }
            Task(executorPreference: EventLoops.shared) { await self.push(assignment, to: node) }
        }
        for address in clients.addresses where !nodes.values.contains(where: { $0.address == address }) {
            clients.close(address)
        }
    }

    func push(_ assignment: ClusterAssignment, to node: ClusterNode) async {
        var ok = false
        do {
            let client = try clients.client(for: node.address)
            switch node.kind {
            case .backend:
                let table = assignment.tables[node.id] ?? ModelTable(dutyCycleMs: 0, sessions: [])
                _ = try await Nexus_Cluster_Backend.Client(wrapping: client)
                    .updateModelTable(table.message(version: assignment.version, nodeID: node.id))
            case .frontend:
                _ = try await Nexus_Cluster_Frontend.Client(wrapping: client).updateRoutes(assignment.routeMessage)
            }
            ok = true
        } catch {
            logger.warning("push of version \(assignment.version) to \(node.kind.rawValue) \(node.id) (\(node.address)) failed: \(error)")
        }
        pushes.withLock { pushes in
            let acked = pushes[node.id]?.acked ?? 0
            // A backend that cannot apply its table still counts as done, so frontends are not held back
            // forever; its error is in the log and its sessions answer "unavailable" until the next plan.
            pushes[node.id] = (ok || node.kind == .backend ? assignment.version : acked, nil)
        }
        if ok || node.kind == .backend { pushPending() }
    }

    // MARK: Events from the service

    func register(_ request: Nexus_Cluster_RegisterRequest) throws -> Nexus_Cluster_RegisterReply {
        let kind: ClusterNode.Kind
        switch request.kind {
        case .backend: kind = .backend
        case .frontend: kind = .frontend
        default: throw ServerError.configuration("kind must be NODE_KIND_BACKEND or NODE_KIND_FRONTEND")
        }
        _ = try HostPort(parsing: request.address, flag: "address")
        let now = clock.nowNs()
        let (id, changed) = try planning { state in
            let id = state.register(kind: kind, address: request.address, device: request.device, runtime: request.runtime, nowNs: now)
            return (id, try state.update(nowNs: now))
        }
        logger.info("\(kind.rawValue) \(id) registered from \(request.address) (device \(request.device), runtime \(request.runtime))")
        if changed { logPlan() }
        let applications = state.withLock { $0.applications }
        let reply = Nexus_Cluster_RegisterReply.with {
            $0.nodeID = id
            $0.beaconIntervalMs = options.config.beaconNs / 1_000_000
            if kind == .frontend {
                $0.applications = applications.map(\.message)
                $0.models = models.map(\.message)
            }
        }
        // Pushes go out after the reply, which tells the node its id.
        Task(executorPreference: EventLoops.shared) {
            try? await Task.sleep(for: .milliseconds(10))
            self.pushPending()
        }
        return reply
    }

    func heartbeat(_ request: Nexus_Cluster_HeartbeatRequest) -> Bool {
        let now = clock.nowNs()
        return state.withLock { $0.heartbeat(nodeID: request.nodeID, utilization: request.utilization, nowNs: now) }
    }

    func unregister(_ request: Nexus_Cluster_UnregisterRequest) {
        let now = clock.nowNs()
        let changed = planning { state -> Bool in
            guard state.unregister(nodeID: request.nodeID) else { return false }
            return (try? state.update(nowNs: now)) ?? false
        }
        logger.info("node \(request.nodeID) unregistered")
        pushes.withLock { _ = $0.removeValue(forKey: request.nodeID) }
        if changed { logPlan() }
        pushPending()
    }

    /// A frontend's counts; a sudden rise in them is planned for at once (`SchedulerState.checkSuddenRise`).
    func report(_ request: Nexus_Cluster_WorkloadReport) -> Bool {
        let now = clock.nowNs()
        let (known, changed) = planning { state -> (Bool, Bool) in
            guard state.heartbeat(nodeID: request.nodeID, utilization: 0, nowNs: now) else { return (false, false) }
            state.report(counts: request.counts.map { ("\($0.application)/\($0.stage)", Int($0.requests)) })
            do {
                return (true, try state.checkSuddenRise(nowNs: now))
            } catch {
                logger.error("planning failed: \(error)")
                return (true, false)
            }
        }
        if changed {
            logPlan()
            pushPending()
        }
        return known
    }

    func status() -> Nexus_Cluster_ClusterStatus {
        let (nodes, assignment, reason, backendNodes) = state.withLock { ($0.nodes, $0.assignment, $0.lastPlanReason, $0.backendNodes) }
        let slots = Dictionary(backendNodes.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
        return .with { status in
            status.nodes = nodes.values.sorted { $0.id < $1.id }.map { node in
                .with {
                    $0.nodeID = node.id
                    $0.kind = node.kind == .backend ? .backend : .frontend
                    $0.address = node.address
                    $0.device = node.device
                    $0.runtime = node.runtime
                    $0.alive = true
                    $0.utilization = node.utilization
                    $0.slot = Int32(slots[node.id] ?? -1)
                }
            }
            status.planVersion = assignment.version
            status.lastPlanReason = reason
            status.routes = assignment.routeMessage
            status.tables = assignment.tables.keys.sorted().map { assignment.tables[$0]!.message(version: assignment.version, nodeID: $0) }
            status.infeasible = assignment.infeasible
        }
    }
}

struct SchedulerService: Nexus_Cluster_Scheduler.SimpleServiceProtocol {
    let server: SchedulerServer

    func register(request: Nexus_Cluster_RegisterRequest, context: ServerContext) async throws -> Nexus_Cluster_RegisterReply {
        try server.register(request)
    }

    func heartbeat(request: Nexus_Cluster_HeartbeatRequest, context: ServerContext) async throws -> Nexus_Cluster_HeartbeatReply {
        .with { $0.known = server.heartbeat(request) }
    }

    func unregister(request: Nexus_Cluster_UnregisterRequest, context: ServerContext) async throws -> Nexus_Cluster_UnregisterReply {
        server.unregister(request)
        return .init()
    }

    func reportWorkload(request: Nexus_Cluster_WorkloadReport, context: ServerContext) async throws -> Nexus_Cluster_WorkloadReply {
        .with { $0.known = server.report(request) }
    }

    func getClusterStatus(request: Nexus_Cluster_ClusterStatusRequest, context: ServerContext) async throws -> Nexus_Cluster_ClusterStatus {
        server.status()
    }

    func reportUnreachable(request: Nexus_Cluster_UnreachableReport, context: ServerContext) async throws -> Nexus_Cluster_UnreachableReply {
        let removed = await server.reportUnreachable(request)
        return .with { $0.removed = removed }
    }
}
