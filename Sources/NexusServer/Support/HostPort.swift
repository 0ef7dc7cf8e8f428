import GRPCNIOTransportHTTP2

/// `host:port` as given on the command line; port 0 asks the system for a free one.
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Throws a message naming `flag` when `text` is not `host:port` with a port in 0...65535.
    public init(parsing text: String, flag: String) throws {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
              let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ServerError.configuration("\(flag) must be HOST:PORT with a port in 0...65535, got '\(text)'")
        }
        self.init(host: String(text[..<colon]), port: port)
    }

    public var description: String { "\(host):\(port)" }

    var socketAddress: GRPCNIOTransportCore.SocketAddress { .ipv4(host: host, port: port) }
}

public enum ServerError: Error, CustomStringConvertible {
    case configuration(String)
    case startup(String)
    /// A backend could not apply the model table it was sent; it keeps the previous one.
    case tableNotApplied(String)

    public var description: String {
        switch self {
        case let .configuration(message), let .startup(message), let .tableNotApplied(message): return message
        }
    }
}
