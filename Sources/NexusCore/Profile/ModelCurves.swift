/// Latency curves of every profiled model, built once and shared (a curve is a few small arrays).
public struct ModelCurves: Sendable {
    public let table: ProfileTable
    private let curves: [String: LatencyCurve]

    public init(table: ProfileTable) {
        self.table = table
        var curves: [String: LatencyCurve] = [:]
        for (name, profile) in table.profiles { curves[name] = LatencyCurve(profile: profile) }
        self.curves = curves
    }

    public func curve(for model: String) throws -> LatencyCurve {
        guard let curve = curves[model] else {
            throw ProfileError.unknownModel(model: model, source: table.source, known: table.modelNames)
        }
        return curve
    }
}
