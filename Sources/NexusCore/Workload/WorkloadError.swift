/// A workload that cannot be used, with the path of the offending key (`applications[2].stages[0].gamma`)
/// and, when it came from a file, the line.
public struct WorkloadError: Error, Equatable, CustomStringConvertible {
    public var source: String
    public var line: Int?
    public var path: String
    public var message: String

    public init(source: String, line: Int? = nil, path: String, message: String) {
        self.source = source
        self.line = line
        self.path = path
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(source):\($0)" } ?? source
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}
