import Foundation
import Logging
@testable import NexusServer
import Synchronization
import Testing

@Suite struct LogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        var sink: @Sendable (String) -> Void { { line in self.lines.withLock { $0.append(line) } } }
    }

    func logger(_ format: LogFormat, level: Logger.Level = .info, into lines: Lines) -> Logger {
        Logger(label: "frontend") { label in NexusLogHandler(component: label, format: format, level: level, sink: lines.sink) }
    }

    @Test func textKeepsTimeComponentMessageAndAddsMetadata() throws {
        let lines = Lines()
        var log = logger(.text, into: lines)
        log.info("SIMULATED runtime: outputs are zeros")
        log[metadataKey: "node"] = "3"
        log.warning("scheduler unreachable", metadata: ["address": "127.0.0.1:8100"])
        log.debug("not shown at info")
        #expect(lines.all.count == 2)
        let first = try #require(lines.all.first)
        #expect(first.hasSuffix(" frontend: SIMULATED runtime: outputs are zeros\n"))
        let time = String(first.prefix { $0 != " " })
        #expect(try Date(time, strategy: .iso8601) > Date(timeIntervalSince1970: 0), "an ISO 8601 time first")
        #expect(lines.all[1].hasSuffix(" frontend: warning: scheduler unreachable {address=127.0.0.1:8100, node=3}\n"))
    }

    @Test func jsonIsOneObjectPerLineWithEveryField() throws {
        let lines = Lines()
        var log = logger(.json, level: .debug, into: lines)
        log[metadataKey: "node"] = "7"
        log.debug("a \"quoted\"\nline\u{1}", metadata: ["sessions": ["a", "b"]])
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n") && !line.dropLast().contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["component"] as? String == "frontend")
        #expect(object["level"] as? String == "debug")
        #expect(object["message"] as? String == "a \"quoted\"\nline\u{1}")
        #expect(object["node"] as? String == "7")
        #expect(object["sessions"] as? [String] == ["a", "b"])
        #expect(object["time"] is String)
    }
}
