import Foundation
import Logging
import Synchronization

/// How `NexusLogHandler` writes a line.
public enum LogFormat: String, CaseIterable, Sendable {
    /// `<ISO time> <component>: <message>`, then ` {key=value, ...}` when the event has metadata; a level
    /// other than info and notice precedes the message (`warning: ...`). What an operator greps and what
    /// the cluster tests read.
    case text
    /// One JSON object per line: `time`, `level`, `component`, `message`, then every metadata key.
    case json
}

/// Nexus's log handler: one line per event on stderr (or any sink), whole even when several threads log at
/// once. The servers log through swift-log's `Logger` only, so a program that embeds them can bootstrap
/// `LoggingSystem` with a handler of its own instead; `nexus` bootstraps this one from `--log-format` and
/// `--log-level`.
public struct NexusLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    public let component: String
    let format: LogFormat
    let sink: @Sendable (String) -> Void

    public init(component: String, format: LogFormat, level: Logger.Level,
                sink: @escaping @Sendable (String) -> Void = NexusLogHandler.standardError) {
        self.component = component
        self.format = format
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        let time = Date().formatted(.iso8601)
        switch format {
        case .text: sink(Self.textLine(time: time, component: component, event: event, metadata: merged))
        case .json: sink(Self.jsonLine(time: time, component: component, event: event, metadata: merged))
        }
    }

    static func textLine(time: String, component: String, event: LogEvent, metadata: Logger.Metadata) -> String {
        var line = "\(time) \(component): "
        if event.level != .info && event.level != .notice { line += "\(event.level): " }
        line += event.message.description
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            line += " {" + pairs.joined(separator: ", ") + "}"
        }
        return line + "\n"
    }

    static func jsonLine(time: String, component: String, event: LogEvent, metadata: Logger.Metadata) -> String {
        var fields = [("time", JSONText.string(time)), ("level", JSONText.string(event.level.rawValue)),
                      ("component", JSONText.string(component)),
                      ("message", JSONText.string(event.message.description))]
        let reserved: Set = ["time", "level", "component", "message"]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where !reserved.contains(key) {
            fields.append((key, JSONText.value(value)))
        }
        return "{" + fields.map { "\(JSONText.string($0.0)):\($0.1)" }.joined(separator: ",") + "}\n"
    }

    /// Writes whole lines to stderr; one lock for the process keeps lines of several threads apart.
    public static let standardError: @Sendable (String) -> Void = { line in
        lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    private static let lock = Mutex(())
}

/// JSON text of log values, escaped per RFC 8259.
enum JSONText {
    static func value(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case let .string(text): return string(text)
        case let .stringConvertible(convertible): return string(convertible.description)
        case let .array(values): return "[" + values.map { self.value($0) }.joined(separator: ",") + "]"
        case let .dictionary(entries):
            return "{" + entries.sorted { $0.key < $1.key }.map { "\(string($0.key)):\(self.value($0.value))" }
                .joined(separator: ",") + "}"
        }
    }

    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
