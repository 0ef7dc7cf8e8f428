import NexusSimulator

/// Terminal output of `nexus simulate`; every table says SIMULATED.
enum SimulationTables {
    static func render(_ results: [SimulationResult]) -> String {
        results.map(render).joined(separator: "\n\n")
    }

    static func render(_ result: SimulationResult) -> String {
        var out = "[SIMULATED] policy \(result.policy), workload \(result.workload), \(fixed(result.durationSeconds, 0)) s, \(result.arrival) arrivals, seed \(result.seed)\n"
        out += "GPUs mean \(fixed(result.gpusMean)) max \(result.gpusMax), lower bound \(fixed(result.lowerBoundGPUsMean)), "
        out += "utilization \(fixed(result.utilization, 3)), busy \(fixed(result.busyFraction, 3)), epochs \(result.epochs), "
        out += "model loads \(result.modelLoads), mean batch \(fixed(result.meanBatchSize, 1))"
        if result.minAdmittedFraction < 1 { out += ", admitted >= \(fixed(result.minAdmittedFraction, 3)) (cluster too small)" }
        out += "\n"
        var table = TextTable(header: ["application", "requests", "within SLO", "dropped", "late", "outside %", "p50 ms", "p99 ms"])
        for app in result.applications + [result.total] {
            table.add([app.name, "\(app.requests)", "\(app.withinSLO)", "\(app.dropped)", "\(app.late)",
                       fixed(app.outsideSLOPercent, 3), app.p50Ms.map { fixed($0, 3) } ?? "-", app.p99Ms.map { fixed($0, 3) } ?? "-"])
        }
        out += table.render()
        out += "\n\(result.calls) model calls simulated in \(fixed(result.wallSeconds, 2)) s wall (\(fixed(result.callsPerWallSecond / 1e6, 2)) M calls/s)"
        return out
    }

    static func render(_ report: MaxRateReport) -> String {
        let out = "[SIMULATED] max rate with >= \(fixed(report.targetFraction * 100, 1))% of requests within SLO on \(report.gpus) GPUs, workload \(report.workload), arrivals \(report.arrival); capacity bound \(fixed(report.capacityBoundPerSecond, 0))/s\n"
        var table = TextTable(header: ["policy", "max rate/s", "of bound", "nexus / policy", "GPUs mean", "utilization", "p99 ms", "within SLO %", "trials"])
        for outcome in report.outcomes {
            let result = outcome.result
            let ofBound = outcome.maxRatePerSecond.map { report.capacityBoundPerSecond > 0 ? fixed($0 / report.capacityBoundPerSecond, 3) : "-" }
            table.add([outcome.policy, outcome.maxRatePerSecond.map { fixed($0, 0) } ?? "none", ofBound ?? "-",
                       report.nexusSpeedup[outcome.policy]?.wrappedValue.map { fixed($0, 2) + "x" } ?? "-",
                       result.map { fixed($0.gpusMean) } ?? "-", result.map { fixed($0.utilization, 3) } ?? "-",
                       result?.total.p99Ms.map { fixed($0, 3) } ?? "-",
                       result.map { fixed($0.total.withinSLOFraction * 100, 2) } ?? "-", "\(outcome.trials.count)"])
        }
        return out + table.render()
    }

    static func render(_ report: MinGPUsReport) -> String {
        let out = "[SIMULATED] fewest GPUs with >= \(fixed(report.targetFraction * 100, 1))% of requests within SLO, workload \(report.workload), arrivals \(report.arrival)\n"
        var table = TextTable(header: ["policy", "rate/s", "min GPUs", "within SLO %", "p99 ms", "mean batch", "trials"])
        for outcome in report.outcomes {
            let result = outcome.result
            table.add([outcome.policy, fixed(outcome.totalRatePerSecond, 0), outcome.minGPUs.map { "\($0)" } ?? "none",
                       result.map { fixed($0.total.withinSLOFraction * 100, 2) } ?? "-", result?.total.p99Ms.map { fixed($0, 3) } ?? "-",
                       result.map { fixed($0.meanBatchSize, 1) } ?? "-", "\(outcome.trials.count)"])
        }
        return out + table.render()
    }
}
