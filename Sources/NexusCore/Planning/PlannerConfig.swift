/// Knobs of the epoch planner. Defaults follow DESIGN.md §3.2 and §1.
public struct PlannerConfig: Sendable {
    /// `M`: memory of one backend's device. 81,559 MiB is what an 80 GB H100 reports.
    public var gpuMemoryMB: Double = 81_559
    /// Capacity planned above the measured rate, as a fraction (0.1 plans for 110%). Absorbs Poisson
    /// bursts and the rise allowed by `stabilityBand` before the next epoch.
    public var rateHeadroom: Double = 0.05
    /// A session whose new rate / previously planned demand stays in this band keeps its placement.
    public var stabilityBand: ClosedRange<Double> = 0.8...1.1
    /// Step 5: try to empty the least-occupied backends (off in the original code).
    public var consolidate: Bool = true
    /// `nexus-next`: on a fixed cluster larger than the plan needs, plan every session for the largest common
    /// multiple of its rate that still fits, so spare GPUs carry bursts instead of idling.
    public var fillsCluster: Bool = false

    public init(gpuMemoryMB: Double = 81_559, rateHeadroom: Double = 0.05,
                stabilityBand: ClosedRange<Double> = 0.8...1.1, consolidate: Bool = true) {
        precondition(gpuMemoryMB > 0, "gpuMemoryMB must be > 0, got \(gpuMemoryMB)")
        precondition(rateHeadroom >= 0, "rateHeadroom must be >= 0, got \(rateHeadroom)")
        self.gpuMemoryMB = gpuMemoryMB
        self.rateHeadroom = rateHeadroom
        self.stabilityBand = stabilityBand
        self.consolidate = consolidate
    }
}
