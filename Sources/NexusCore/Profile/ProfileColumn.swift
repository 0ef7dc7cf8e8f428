/// Which measured latency column drives planning. Columns are named `<mode>_<statistic>_ms`
/// (`graph_p99_ms`, `graph_median_ms`, `eager_median_ms`); the planner uses the chosen one and the
/// simulated device draws each batch time between the same mode's median and p99 when both exist.
public struct ProfileColumn: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) { self.name = name }

    public static let graphP99 = ProfileColumn("graph_p99_ms")
    public static let graphMedian = ProfileColumn("graph_median_ms")
    public static let eagerMedian = ProfileColumn("eager_median_ms")

    /// `graph` for `graph_p99_ms`; the part before the statistic.
    public var mode: String {
        let parts = name.split(separator: "_")
        return parts.count >= 3 ? parts.dropLast(2).joined(separator: "_") : name
    }

    /// The median column of the same mode (`graph_median_ms` for `graph_p99_ms`).
    public var medianColumn: String { "\(mode)_median_ms" }
    /// The p99 column of the same mode.
    public var p99Column: String { "\(mode)_p99_ms" }

    public var description: String { name }
}
