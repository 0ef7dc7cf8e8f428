import Foundation

/// One line per event on stderr, `<ISO time> <component>: <message>`: what an operator greps and what the
/// cluster tests read. A lock keeps lines from several threads whole.
public struct ServerLog: Sendable {
    public let component: String

    public init(_ component: String) { self.component = component }

    public func info(_ message: String) {
        let line = "\(Date().formatted(.iso8601)) \(component): \(message)\n"
        Self.lock.lock()
        FileHandle.standardError.write(Data(line.utf8))
        Self.lock.unlock()
    }

    private static let lock = NSLock()
}
