/// The most requests per second a cluster could ever serve for a workload's traffic mix: every GPU busy all
/// the time, each stage's model at its most efficient batch among those that run within the application's
/// SLO (less the fixed overheads). No policy reaches it (requests arrive at random and batches must wait
/// for each other); it is the yardstick for "how close to the hardware" (issue 13).
public enum CapacityBound {
    public static func ratePerSecond(workload: Workload, curves: ModelCurves, gpus: Int, phaseIndex: Int?,
                                     sloScale: Double = 1) throws -> Double {
        let mix = workload.traffic(phaseIndex: phaseIndex, totalRatePerSecond: 1)
        var gpuSecondsPerRequest = 0.0
        for (a, app) in workload.applications.enumerated() {
            let budgetMs = app.latencySLOMs * sloScale - workload.overheadMs
            for (s, stage) in app.stages.enumerated() where mix.stageRates[a][s] > 0 {
                let curve = try curves.curve(for: stage.model)
                let fits = curve.largestBatch(withLatencyAtMostMs: budgetMs)
                // Nothing fits: the stage cannot be served at all, so the bound is zero.
                guard fits >= 1 else { return 0 }
                let best = curve.bestBatchUpTo[fits]
                gpuSecondsPerRequest += mix.stageRates[a][s] * curve.latencyMs[best] / 1000 / Double(best)
            }
        }
        return gpuSecondsPerRequest > 0 ? Double(gpus) / gpuSecondsPerRequest : 0
    }
}
