import GRPCCore
import GRPCNIOTransportHTTP2
import NexusConfig
import NexusCore
import NexusProtocol
import NexusRuntime
import Synchronization

/// `nexus scheduler` (DESIGN.md §2): the control plane. A thin shell around `SchedulerState`: gRPC events
/// and a beacon timer go in with the time, and every change of the assignment is pushed — model tables
/// to backends first, routes to frontends once every backend has its table, so a frontend never sends a
/// session to a backend that has not loaded it.
public final class SchedulerServer: Sendable {
    public struct Options: Sendable {
        public var listen: HostPort
        public var config: SchedulerConfig

        public init(listen: HostPort, config: SchedulerConfig) {
            self.listen = listen
            self.config = config
        }
    }

    let options: Options
    let state: Mutex<SchedulerState>
    let models: [ModelInterface]
    let clock = MonotonicClock()
    let log = ServerLog("scheduler")
    let clients = NodeClients()
    /// Per node: the assignment version it acknowledged, and the version in flight to it.
    let pushes = Mutex<[UInt64: (acked: UInt64, inFlight: UInt64?)]>([:])
    let bound = Mutex<HostPort?>(nil)

    /// `declaredStageRates`: what the first plan is sized for (per application, per stage), else the
    /// scheduler's minimum rate until the frontends report.
    public init(options: Options, applications: [ServedApplication], models: [ModelSpec], planner: any ClusterPlanning,
                declaredStageRates: [[Double]]? = nil) {
        self.options = options
        self.models = models.map(ModelInterface.init)
        state = Mutex(SchedulerState(applications: applications, planner: planner, config: options.config,
                                     declaredStageRates: declaredStageRates))
    }

    /// Where it listens, once `run` has bound.
    public var address: HostPort? { bound.withLock { $0 } }

    /// Serves until cancelled. `onListening` gets the bound address (port 0 resolved).
    public func run(onListening: @Sendable (HostPort) -> Void = { _ in }) async throws {
        let transport = Transport.server(listen: options.listen)
        let server = GRPCServer(transport: transport, services: [SchedulerService(server: self)])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            let address = try await Transport.boundAddress(of: transport, advertise: options.listen.host)
            bound.withLock { $0 = address }
            log.info("listening on \(address); beacon \(options.config.beaconNs / 1_000_000) ms, a node silent for \(options.config.deadAfterBeacons) beacons is dead")
            onListening(address)
            group.addTask { try await self.beaconLoop() }
            try await withTaskCancellationHandler {
                try await Task.sleep(for: .seconds(1_000_000_000))
            } onCancel: {
                server.beginGracefulShutdown()
            }
        }
    }

    func beaconLoop() async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: .nanoseconds(options.config.beaconNs))
            let now = clock.nowNs()
            do {
                let changed = try state.withLock { try $0.beacon(nowNs: now) }
                if changed { logPlan() }
            } catch {
                log.info("planning failed: \(error)")
            }
            pushPending()
        }
    }

    func logPlan() {
        let (reason, assignment, plans) = state.withLock { ($0.lastPlanReason, $0.assignment, $0.planCount) }
        let summary = assignment.tables.keys.sorted().map { node in
            "node \(node): [\(assignment.tables[node]!.sessions.map { "\($0.sessionID) b\($0.maxBatch)" }.joined(separator: ", "))]"
        }.joined(separator: "; ")
        log.info("plan \(plans) version \(assignment.version) (\(reason)): \(summary.isEmpty ? "no backends" : summary)"
                 + (assignment.infeasible.isEmpty ? "" : "; infeasible: \(assignment.infeasible.joined(separator: "; "))"))
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
            log.info("push of version \(assignment.version) to \(node.kind.rawValue) \(node.id) (\(node.address)) failed: \(error)")
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
        default: throw RPCError(code: .invalidArgument, message: "kind must be NODE_KIND_BACKEND or NODE_KIND_FRONTEND")
        }
        _ = try HostPort(parsing: request.address, flag: "address")
        let now = clock.nowNs()
        let (id, changed) = try state.withLock { state in
            let id = state.register(kind: kind, address: request.address, device: request.device, runtime: request.runtime, nowNs: now)
            return (id, try state.update(nowNs: now))
        }
        log.info("\(kind.rawValue) \(id) registered from \(request.address) (device \(request.device), runtime \(request.runtime))")
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
        let changed = state.withLock { state -> Bool in
            guard state.unregister(nodeID: request.nodeID) else { return false }
            return (try? state.update(nowNs: now)) ?? false
        }
        log.info("node \(request.nodeID) unregistered")
        pushes.withLock { _ = $0.removeValue(forKey: request.nodeID) }
        if changed { logPlan() }
        pushPending()
    }

    func report(_ request: Nexus_Cluster_WorkloadReport) -> Bool {
        let now = clock.nowNs()
        return state.withLock { state in
            guard state.heartbeat(nodeID: request.nodeID, utilization: 0, nowNs: now) else { return false }
            state.report(counts: request.counts.map { ("\($0.application)/\($0.stage)", Int($0.requests)) })
            return true
        }
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
}
