import Foundation
import NexusCore

/// A workload file with everything it refers to: its profiles, as curves.
public struct LoadedWorkload: Sendable {
    public var workload: Workload
    public var path: String
    public var profilesPath: String
    public var curves: ModelCurves
    public var profileColumn: ProfileColumn
}

/// Reads `data/workloads/*.yaml` (keys defined in that folder's README).
public enum WorkloadLoader {
    /// `profileColumn` overrides the file's `profileColumn` key.
    public static func load(path: String, profileColumn override: ProfileColumn? = nil) throws -> LoadedWorkload {
        let workload = try parse(text: try TextFile.read(path, what: "workload"), path: path)
        let column = override ?? workload.profileColumn.map(ProfileColumn.init) ?? .graphP99
        let profilesPath = try resolveProfiles(workload.profiles, workloadPath: path)
        let table = try ProfileLoader.load(path: profilesPath, column: column)
        let curves = ModelCurves(table: table)
        for (a, app) in workload.applications.enumerated() {
            for (s, stage) in app.stages.enumerated() where table.profiles[stage.model] == nil {
                throw WorkloadError(source: path, path: "applications[\(a)].stages[\(s)].model",
                                    message: "'\(stage.model)' has no profile in \(profilesPath) (profiled: \(table.modelNames.joined(separator: ", ")))")
            }
        }
        return LoadedWorkload(workload: workload, path: path, profilesPath: profilesPath, curves: curves, profileColumn: column)
    }

    /// The workload file's text, checked key by key (unknown keys, types, ranges) but without its profiles:
    /// what `load` reads before it opens any other file, and what the fuzz test feeds mutated text.
    public static func parse(text: String, path: String) throws -> Workload {
        let document = try YAMLDocument(text: text, path: path)
        try document.requireKnownKeys(Workload.knownKeys, at: document.root, path: "")
        for (a, app) in document.items(of: document.root, key: "applications").enumerated() {
            try document.requireKnownKeys(ApplicationSpec.knownKeys, at: app, path: "applications[\(a)]")
            for (s, stage) in document.items(of: app, key: "stages").enumerated() {
                try document.requireKnownKeys(StageSpec.knownKeys, at: stage, path: "applications[\(a)].stages[\(s)]")
            }
        }
        for (p, phase) in document.items(of: document.root, key: "phases").enumerated() {
            try document.requireKnownKeys(PhaseSpec.knownKeys, at: phase, path: "phases[\(p)]")
        }
        let workload = try document.decode(Workload.self)
        try workload.validate(source: path)
        return workload
    }

    /// Profiles are named relative to the workload's folder or, as in `data/workloads/`, its parent.
    static func resolveProfiles(_ name: String, workloadPath: String) throws -> String {
        if name.hasPrefix("/") { return name }
        let folder = URL(fileURLWithPath: workloadPath).deletingLastPathComponent()
        let candidates = [folder.appendingPathComponent(name).path,
                          folder.deletingLastPathComponent().appendingPathComponent(name).path]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw WorkloadError(source: workloadPath, path: "profiles",
                                message: "'\(name)' not found (looked in \(candidates.joined(separator: " and ")))")
        }
        return found
    }
}
