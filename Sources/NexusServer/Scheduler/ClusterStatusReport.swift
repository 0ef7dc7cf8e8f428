import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NexusProtocol

/// The scheduler's view as plain values (`nexus cluster-status`, tests).
public struct ClusterStatusReport: Encodable, Sendable {
    public struct Node: Encodable, Sendable {
        public var id: UInt64, kind: String, address: String, device: String, runtime: String, alive: Bool, slot: Int, utilization: Double
    }
    public struct Target: Encodable, Sendable { public var nodeId: UInt64, address: String, ratePerSecond: Double }
    public struct Stage: Encodable, Sendable { public var application: String, stage: String, sessionId: String, budgetMs: Double }
    public struct Entry: Encodable, Sendable { public var sessionId: String, models: [String], maxBatch: Int }
    public struct Table: Encodable, Sendable { public var nodeId: UInt64, dutyCycleMs: Double, sessions: [Entry] }

    public var planVersion: UInt64
    public var lastPlanReason: String
    public var nodes: [Node]
    public var routes: [String: [Target]]
    public var stages: [Stage]
    public var tables: [Table]
    public var infeasible: [String]

    init(_ status: Nexus_Cluster_ClusterStatus) {
        planVersion = status.planVersion
        lastPlanReason = status.lastPlanReason
        nodes = status.nodes.map {
            Node(id: $0.nodeID, kind: $0.kind == .backend ? "backend" : "frontend", address: $0.address, device: $0.device,
                 runtime: $0.runtime, alive: $0.alive, slot: Int($0.slot), utilization: $0.utilization)
        }
        var routes: [String: [Target]] = [:]
        for route in status.routes.routes {
            routes[route.sessionID] = route.targets.map { Target(nodeId: $0.nodeID, address: $0.address, ratePerSecond: $0.ratePerSecond) }
        }
        self.routes = routes
        stages = status.routes.stages.map { Stage(application: $0.application, stage: $0.stage, sessionId: $0.sessionID, budgetMs: $0.budgetMs) }
        tables = status.tables.map { table in
            Table(nodeId: table.nodeID, dutyCycleMs: table.dutyCycleMs,
                  sessions: table.sessions.map { Entry(sessionId: $0.sessionID, models: $0.models, maxBatch: Int($0.maxBatch)) })
        }
        infeasible = status.infeasible
    }
}

extension ClusterStatusReport {
    public static func fetch(from scheduler: HostPort) async throws -> ClusterStatusReport {
        try await withGRPCClient(transport: try Transport.clientTransport(scheduler)) { client in
            ClusterStatusReport(try await Nexus_Cluster_Scheduler.Client(wrapping: client).getClusterStatus(.init()))
        }
    }
}
