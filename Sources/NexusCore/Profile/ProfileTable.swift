/// All model profiles of one device kind, by model name.
public struct ProfileTable: Sendable {
    public let source: String
    public let column: ProfileColumn
    public private(set) var profiles: [String: ModelProfile]

    public init(source: String, column: ProfileColumn, profiles: [ModelProfile]) {
        self.source = source
        self.column = column
        self.profiles = Dictionary(profiles.map { ($0.model, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// Sorted, so listings and error messages are the same in every run.
    public var modelNames: [String] { profiles.keys.sorted() }

    public func profile(for model: String) throws -> ModelProfile {
        guard let profile = profiles[model] else {
            throw ProfileError.unknownModel(model: model, source: source, known: modelNames)
        }
        return profile
    }

    public mutating func add(_ profile: ModelProfile) { profiles[profile.model] = profile }
}
