/// One measured batch size of one model. `planningLatencyMs` is the column the planner was told to use;
/// `medianLatencyMs`..`p99LatencyMs` is the range a simulated device draws from.
public struct ProfilePoint: Equatable, Sendable {
    public var batch: Int
    public var planningLatencyMs: Double
    public var medianLatencyMs: Double
    public var p99LatencyMs: Double
    public var memoryMB: Double

    public init(batch: Int, planningLatencyMs: Double, medianLatencyMs: Double? = nil,
                p99LatencyMs: Double? = nil, memoryMB: Double = 0) {
        self.batch = batch
        self.planningLatencyMs = planningLatencyMs
        let median = medianLatencyMs ?? planningLatencyMs
        let p99 = p99LatencyMs ?? planningLatencyMs
        self.medianLatencyMs = min(median, p99)
        self.p99LatencyMs = max(median, p99)
        self.memoryMB = memoryMB
    }
}
