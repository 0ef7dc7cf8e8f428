import Foundation
import NexusCore

/// A model repository (DESIGN.md §2), like Triton's: `<root>/<name>/model.yaml` with its TorchScript file
/// and `profiles/<device>.csv`. Folders whose name starts with `_` or `.` are not models (the exporter keeps
/// reference outputs in `_reference/`).
public struct ModelRepository: Sendable {
    public var root: String
    public var models: [String: ModelSpec]

    public init(root: String, models: [String: ModelSpec]) {
        self.root = root
        self.models = models
    }

    public var modelNames: [String] { models.keys.sorted() }

    public func model(_ name: String) throws -> ModelSpec {
        guard let spec = models[name] else {
            throw WorkloadError(source: root, path: name,
                                message: "no such model (the repository has: \(modelNames.joined(separator: ", ")))")
        }
        return spec
    }

    /// `<root>/<model>/profiles/<device>.csv`, where `nexus profile` writes.
    public func profilePath(model: String, device: String) -> String {
        "\(root)/\(model)/profiles/\(device).csv"
    }

    /// The model's measured profile on `device`, or nil when it was never profiled there.
    public func profile(model: String, device: String, column: ProfileColumn = .graphP99) throws -> ModelProfile? {
        let path = profilePath(model: model, device: device)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try ProfileLoader.load(path: path, column: column).profiles[model]
    }
}

extension ModelRepository {
    /// Reads every model of the repository; the first bad entry is an error naming its file and key.
    public static func load(root: String) throws -> ModelRepository {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConfigError.fileNotFound(path: root, what: "model repository directory")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: root)
            .filter { !$0.hasPrefix("_") && !$0.hasPrefix(".") }
            .filter { name in
                var folder: ObjCBool = false
                return FileManager.default.fileExists(atPath: "\(root)/\(name)", isDirectory: &folder) && folder.boolValue
            }
            .sorted()
        var models: [String: ModelSpec] = [:]
        for name in names {
            models[name] = try ModelEntryLoader.load(directory: "\(root)/\(name)", name: name)
        }
        try validatePrefixes(models, root: root)
        return ModelRepository(root: root, models: models)
    }

    /// A member's prefix must be a plain model of the repository that takes the same input.
    static func validatePrefixes(_ models: [String: ModelSpec], root: String) throws {
        for spec in models.values.sorted(by: { $0.name < $1.name }) {
            guard let base = spec.prefix else { continue }
            let source = "\(spec.directory)/model.yaml"
            guard let baseSpec = models[base] else {
                throw WorkloadError(source: source, path: "prefix",
                                    message: "'\(base)' is not a model of \(root) (it has: \(models.keys.sorted().joined(separator: ", ")))")
            }
            if baseSpec.isHead {
                throw WorkloadError(source: source, path: "prefix", message: "'\(base)' is itself a prefix-family member; prefixes do not nest")
            }
            if baseSpec.input != spec.input {
                throw WorkloadError(source: source, path: "input",
                                    message: "must equal the prefix '\(base)''s input (\(baseSpec.input.dtype.rawValue) \(baseSpec.input.shape))")
            }
        }
    }
}
