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

extension LoadedWorkload {
    /// A phase by name or index, or an error that lists the phases.
    public func phaseIndex(named name: String) throws -> Int {
        guard let index = workload.phaseIndex(named: name) else {
            let phases = (workload.phases ?? []).enumerated().map { "\($0.offset)\($0.element.name.map { " (\($0))" } ?? "")" }
            throw ConfigError.unknownPhase(path: path, name: name, known: phases)
        }
        return index
    }
}
