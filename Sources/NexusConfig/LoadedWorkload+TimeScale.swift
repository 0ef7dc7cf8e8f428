import NexusCore

extension LoadedWorkload {
    /// The workload and its profiles slowed down by `scale` (`--time-scale`): SLOs, network costs and profile
    /// latencies times K, rates divided by K.
    public func scaled(_ scale: TimeScale) -> LoadedWorkload {
        guard scale != .identity else { return self }
        var scaled = self
        scaled.workload = scale.scale(workload)
        scaled.curves = ModelCurves(table: scale.scale(curves.table))
        return scaled
    }
}
