import NexusCore
import Yams

/// A parsed YAML file that decodes into Codable values with errors naming the file, line and key path,
/// and that rejects keys it does not know (a misspelt `gama:` must not be silently ignored).
struct YAMLDocument {
    let path: String
    let root: Node

    init(text: String, path: String) throws {
        do {
            guard let root = try Yams.compose(yaml: text) else {
                throw ConfigError.yamlSyntax(path: path, line: nil, problem: "the file is empty")
            }
            self.root = root
        } catch let error as YamlError {
            throw ConfigError.yamlSyntax(path: path, line: Self.line(of: error), problem: "\(error)")
        }
        self.path = path
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try YAMLDecoder().decode(type, from: root)
        } catch let error as DecodingError {
            throw translate(error)
        }
    }

    /// Fails on the first key of a mapping at `nodePath` that is not in `known`.
    func requireKnownKeys(_ known: Set<String>, at node: Node, path nodePath: String) throws {
        guard let mapping = node.mapping else {
            throw WorkloadError(source: path, line: node.mark?.line, path: nodePath, message: "must be a mapping of keys to values")
        }
        for (key, _) in mapping {
            let name = key.string ?? "\(key)"
            if !known.contains(name) {
                throw WorkloadError(source: path, line: key.mark?.line, path: nodePath.isEmpty ? name : "\(nodePath).\(name)",
                                    message: "unknown key (known keys: \(known.sorted().joined(separator: ", ")))")
            }
        }
    }

    /// Items of a sequence under `key`, or none when the key is absent.
    func items(of node: Node, key: String) -> [Node] {
        node[key]?.sequence.map { Array($0) } ?? []
    }

    private func translate(_ error: DecodingError) -> WorkloadError {
        let (codingPath, message): ([CodingKey], String)
        switch error {
        case let .typeMismatch(type, context):
            (codingPath, message) = (context.codingPath, "expected \(Self.describe(type))")
        case let .valueNotFound(type, context):
            (codingPath, message) = (context.codingPath, "expected \(Self.describe(type)), found nothing")
        case let .keyNotFound(key, context):
            (codingPath, message) = (context.codingPath + [key], "required key is missing")
        case let .dataCorrupted(context):
            (codingPath, message) = (context.codingPath, context.debugDescription)
        @unknown default:
            (codingPath, message) = ([], "\(error)")
        }
        var text = ""
        var node: Node? = root
        var line = root.mark?.line
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
                node = node?.sequence.flatMap { index < $0.count ? $0[index] : nil }
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                node = node?[key.stringValue]
            }
            if let mark = node?.mark { line = mark.line }
        }
        return WorkloadError(source: path, line: line, path: text, message: message)
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type: return "a number"
        case is Int.Type: return "a whole number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") { return "a mapping" }
            return "a value of type \(name)"
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _): return mark.line
        default: return nil
        }
    }
}
