/// A configuration file that could not be read at all (before any of its keys are looked at).
public enum ConfigError: Error, Equatable, CustomStringConvertible {
    case fileNotFound(path: String, what: String)
    case unreadable(path: String, reason: String)
    case yamlSyntax(path: String, line: Int?, problem: String)
    /// `--phase NAME` names no phase of the workload; `known` lists them ("index (name)").
    case unknownPhase(path: String, name: String, known: [String])

    public var description: String {
        switch self {
        case let .fileNotFound(path, what): return "\(path): no such \(what) file"
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .yamlSyntax(path, line, problem):
            return "\(path)\(line.map { ":\($0)" } ?? ""): not valid YAML: \(problem)"
        case let .unknownPhase(path, name, known):
            return "--phase: '\(name)' is not a phase of \(path) (phases: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
        }
    }
}
