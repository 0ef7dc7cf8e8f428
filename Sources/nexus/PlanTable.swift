import NexusCore

/// `nexus plan` without `--json`.
enum PlanTable {
    static func render(_ report: PlanReport) -> String {
        var out = "workload \(report.workload)\(report.phase.map { ", phase \($0)" } ?? ""): \(fixed(report.totalRatePerSecond, 0)) requests/s\n"
        out += "GPUs \(report.gpus), lower bound \(fixed(report.lowerBoundGPUs)), utilization \(fixed(report.utilization, 3))"
        if report.admittedFraction < 1 { out += ", admitted fraction \(fixed(report.admittedFraction, 4)) (cluster too small)" }
        out += "\n\nSessions\n"
        var sessions = TextTable(header: ["session", "model", "budget ms", "gpu ms", "rate/s", "B", "peak/s", "members"])
        for s in report.sessions {
            sessions.add([s.id, s.model, fixed(s.latencySLOMs, 3), fixed(s.gpuBudgetMs, 3), fixed(s.ratePerSecond, 1),
                          "\(s.maxBatch)", fixed(s.peakThroughputPerSecond, 0), "\(s.members.count)"])
        }
        out += sessions.render() + "\n\nBackends\n"
        var backends = TextTable(header: ["id", "duty ms", "occupancy", "memory MB", "sessions (batch, rate/s)"])
        for b in report.backends {
            backends.add(["\(b.id)\(b.saturated ? "*" : "")", fixed(b.dutyCycleMs, 3), fixed(b.occupancy, 3), fixed(b.memoryMB, 0),
                          b.sessions.map { "\($0.session) (\($0.batch), \(fixed($0.ratePerSecond, 0)))" }.joined(separator: ", ")])
        }
        out += backends.render() + "\n(* saturated: one session alone at its largest safe batch)\n"
        if !report.infeasible.isEmpty {
            out += "\nInfeasible sessions\n"
            for s in report.infeasible { out += "  \(s.session) (\(s.members.joined(separator: ", "))): \(s.reason)\n" }
        }
        return out
    }
}
