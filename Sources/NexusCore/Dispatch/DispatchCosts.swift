/// What a central dispatcher pays to start a batch on a GPU: a fixed control message and the inputs
/// copied per request. Symphony states d_ctrl = 100 us and d_data = 50 us per request; Shepherd's Flex
/// 25 us and 75 us. The cost counts against every deadline a dispatcher plans to.
public struct DispatchCosts: Sendable, Equatable {
    public var controlNs: Int64
    public var perRequestNs: Int64

    public init(controlNs: Int64, perRequestNs: Int64) {
        precondition(controlNs >= 0 && perRequestNs >= 0, "dispatch costs must be >= 0, got \(controlNs), \(perRequestNs)")
        self.controlNs = controlNs
        self.perRequestNs = perRequestNs
    }

    public static let symphony = DispatchCosts(controlNs: 100_000, perRequestNs: 50_000)
    public static let shepherd = DispatchCosts(controlNs: 25_000, perRequestNs: 75_000)
    public static let none = DispatchCosts(controlNs: 0, perRequestNs: 0)

    /// From dispatch to the start of execution for a batch of `batch`.
    @inlinable public func startDelayNs(batch: Int) -> Int64 { controlNs + Int64(batch) * perRequestNs }
}
