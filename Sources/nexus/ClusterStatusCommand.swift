import ArgumentParser
import Foundation
import NexusServer

struct ClusterStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster-status",
        abstract: "Print the scheduler's view: nodes, the current plan's model tables, routes and stage budgets.")

    @Option(name: .long, help: "The scheduler's HOST:PORT.")
    var scheduler: String

    @Flag(name: .long, help: "Print JSON (keys in README: nexus cluster-status).")
    var json = false

    func run() async throws {
        let target = try HostPort(parsing: scheduler, flag: "--scheduler")
        let report = try await ClusterStatusReport.fetch(from: target)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("plan version \(report.planVersion) (\(report.lastPlanReason))")
        for node in report.nodes {
            print("  \(node.kind) \(node.id) at \(node.address): \(node.device), \(node.runtime)\(node.slot >= 0 ? ", plan backend \(node.slot)" : ""), utilization \(String(format: "%.2f", node.utilization))")
        }
        for table in report.tables {
            print("  node \(table.nodeId) duty cycle \(String(format: "%.1f", table.dutyCycleMs)) ms: \(table.sessions.map { "\($0.sessionId) [\($0.models.joined(separator: "+"))] batch \($0.maxBatch)" }.joined(separator: "; "))")
        }
        for stage in report.stages {
            print("  \(stage.application)/\(stage.stage): session \(stage.sessionId.isEmpty ? "none" : stage.sessionId), budget \(String(format: "%.1f", stage.budgetMs)) ms, backends \(report.routes[stage.sessionId]?.map(\.nodeId) ?? [])")
        }
        for item in report.infeasible { print("  infeasible: \(item)") }
    }
}

