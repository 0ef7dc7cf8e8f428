/// A process the scheduler knows (DESIGN.md §2): a backend driving one device, or a frontend.
public struct ClusterNode: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable { case backend, frontend }

    public var id: UInt64
    public var kind: Kind
    /// host:port where it serves.
    public var address: String
    /// cpu, cuda:N or simulated.
    public var device: String
    /// "torch" or "simulated": the scheduler fills real devices before simulated ones.
    public var runtime: String
    public var lastSeenNs: Int64
    /// Device busy fraction over the last beacon (backends).
    public var utilization: Double = 0

    public init(id: UInt64, kind: Kind, address: String, device: String, runtime: String, lastSeenNs: Int64) {
        self.id = id
        self.kind = kind
        self.address = address
        self.device = device
        self.runtime = runtime
        self.lastSeenNs = lastSeenNs
    }

    public var isSimulated: Bool { runtime == "simulated" }
}
