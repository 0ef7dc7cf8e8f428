/// Rates and gammas in force at one moment of a workload.
public struct TrafficSnapshot: Sendable, Equatable {
    /// The phase in force (nil before the first phase, or when the workload has none).
    public var phaseIndex: Int?
    public var phaseName: String?
    /// Client requests per second, per application.
    public var applicationRates: [Double]
    /// Per application, per stage: calls per parent call (per request for a root).
    public var stageGammas: [[Double]]
    /// Per application, per stage: expected calls per second.
    public var stageRates: [[Double]]

    public var totalRatePerSecond: Double { applicationRates.reduce(0, +) }
}

extension Workload {
    /// The last phase whose `atSeconds` is <= `seconds`.
    public func phaseIndex(atSeconds seconds: Double) -> Int? {
        guard let phases else { return nil }
        return phases.lastIndex { $0.atSeconds <= seconds }
    }

    /// Index of the phase named `name`, or of the phase with that index ("0", "1", ...).
    public func phaseIndex(named name: String) -> Int? {
        if let index = phases?.firstIndex(where: { $0.name == name }) { return index }
        if let index = Int(name), let phases, phases.indices.contains(index) { return index }
        return nil
    }

    /// Traffic while phase `phaseIndex` is in force (nil: the base workload). `totalRatePerSecond`
    /// overrides the file's total; application shares and phase scales still apply.
    public func traffic(phaseIndex: Int?, totalRatePerSecond total: Double? = nil) -> TrafficSnapshot {
        let phase = phaseIndex.flatMap { phases?[$0] }
        let base = total ?? totalRatePerSecond
        var applicationRates: [Double] = []
        var gammas: [[Double]] = []
        var rates: [[Double]] = []
        for app in applications {
            let scale = phase?.scale?[app.name] ?? app.group.flatMap { phase?.scale?[$0] } ?? 1
            let appRate = base * app.rateShare * scale
            applicationRates.append(appRate)
            let stageGammas = app.stages.map { stage in
                phase?.gamma?["\(app.name)/\(stage.name)"] ?? phase?.gamma?[stage.name] ?? stage.gamma ?? 1
            }
            gammas.append(stageGammas)
            rates.append(app.stageRates(applicationRatePerSecond: appRate, gammas: stageGammas))
        }
        return TrafficSnapshot(phaseIndex: phaseIndex, phaseName: phase?.name, applicationRates: applicationRates,
                               stageGammas: gammas, stageRates: rates)
    }

    public func traffic(atSeconds seconds: Double, totalRatePerSecond total: Double? = nil) -> TrafficSnapshot {
        traffic(phaseIndex: phaseIndex(atSeconds: seconds), totalRatePerSecond: total)
    }
}
