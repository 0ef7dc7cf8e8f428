/// Every knob of planning in one value, with one set of defaults for `nexus serve`, `nexus scheduler`,
/// `nexus plan` and `nexus simulate` (before, the simulator planned with 5% headroom and the servers with
/// none). It builds the scheduler's `ClusterPlanning`: Nexus's epoch planner, or the baselines' allocator.
public struct PlanningSettings: Sendable, Equatable {
    /// Capacity planned above the measured rate (0.05 plans for 105%): absorbs Poisson bursts and the rise
    /// the stability band allows before the next epoch.
    public var rateHeadroom: Double = PlannerConfig().rateHeadroom
    /// Memory of one backend's device.
    public var gpuMemoryMB: Double = PlannerConfig().gpuMemoryMB
    /// How an application's SLO is split over its stages.
    public var split: SessionBuilder.SplitMode = .optimal(steps: 100)
    /// Keep last epoch's split unless the new one needs this fraction fewer GPUs.
    public var splitHysteresis: Double = 0.02
    public var prefixBatching = true
    /// Step 5 of squishy bin packing.
    public var consolidate = PlannerConfig().consolidate
    /// Multiplies every application's SLO.
    public var sloScale: Double = 1
    /// A session whose rate stays in this band x its planned demand keeps its placement.
    public var stabilityBand: ClosedRange<Double> = PlannerConfig().stabilityBand
    /// Plan for more than the demand when the cluster has room (`PlannerConfig.fillsCluster`).
    public var fillsCluster = false

    public init() {}

    /// `overheadMs`: network and pre/post-processing per model call, taken out of each stage's budget.
    public func builder(curves: ModelCurves, overheadMs: Double) -> SessionBuilder {
        SessionBuilder(curves: curves, overheadMs: overheadMs, gpuMemoryMB: gpuMemoryMB, splitMode: split,
                       prefixBatching: prefixBatching, sloScale: sloScale, splitHysteresis: splitHysteresis)
    }

    /// Squishy bin packing with stability (DESIGN.md §3.2).
    public func epochPlanner(curves: ModelCurves, overheadMs: Double) -> EpochPlanner {
        var config = PlannerConfig(gpuMemoryMB: gpuMemoryMB, rateHeadroom: rateHeadroom, stabilityBand: stabilityBand,
                                   consolidate: consolidate)
        config.fillsCluster = fillsCluster
        return EpochPlanner(builder: builder(curves: curves, overheadMs: overheadMs), planner: Planner(config: config))
    }

    /// The baselines' batch-oblivious allocation (DESIGN.md §5), with the same headroom.
    public func batchObliviousPlanning(curves: ModelCurves, overheadMs: Double) -> BatchObliviousPlanning {
        BatchObliviousPlanning(builder: builder(curves: curves, overheadMs: overheadMs),
                               allocator: BatchObliviousAllocator(gpuMemoryMB: gpuMemoryMB, rateHeadroom: rateHeadroom))
    }
}
