/// Slows a whole study down by a factor `K` (`--time-scale`, shared by `nexus serve`, `nexus bench` and `nexus
/// simulate`): every profile latency, SLO and network cost is multiplied by `K` and every rate divided by it,
/// so plans keep their batches and GPU counts while the engine's own CPU cost per request becomes small
/// beside the (simulated) model time. The control plane's own clocks (beacons, epochs) are not scaled.
public struct TimeScale: Sendable, Equatable {
    public let factor: Double

    public init(_ factor: Double) {
        precondition(factor > 0 && factor.isFinite, "time scale must be a positive finite number, got \(factor)")
        self.factor = factor
    }

    public static let identity = TimeScale(1)

    public func scale(_ profile: ModelProfile) -> ModelProfile {
        guard factor != 1 else { return profile }
        let points = profile.points.map { point in
            ProfilePoint(batch: point.batch, planningLatencyMs: point.planningLatencyMs * factor,
                         medianLatencyMs: point.medianLatencyMs * factor, p99LatencyMs: point.p99LatencyMs * factor,
                         memoryMB: point.memoryMB)
        }
        // Scaling keeps the points valid (sorted, batch 1 first), so this cannot throw.
        return try! ModelProfile(model: profile.model, device: profile.device, inputSize: profile.inputSize, points: points)
    }

    public func scale(_ table: ProfileTable) -> ProfileTable {
        guard factor != 1 else { return table }
        let label = "\(table.source) (time scale \(factor))"
        return ProfileTable(source: label, column: table.column, profiles: table.profiles.values.map(scale))
    }

    /// SLOs, network and pre/post-processing costs times `K`, the total rate divided by it; phases keep their
    /// times (they are the workload's timeline, which `nexus simulate` reads in simulated seconds).
    public func scale(_ workload: Workload) -> Workload {
        guard factor != 1 else { return workload }
        var scaled = workload
        scaled.networkMs = workload.networkMs.map { $0 * factor }
        scaled.preprocessMs = workload.preprocessMs.map { $0 * factor }
        scaled.postprocessMs = workload.postprocessMs.map { $0 * factor }
        scaled.totalRatePerSecond = workload.totalRatePerSecond / factor
        for index in scaled.applications.indices { scaled.applications[index].latencySLOMs *= factor }
        return scaled
    }
}
