/// Where code that makes timing decisions reads time: the real monotonic clock in servers, a virtual one
/// in the simulator and in tests. The core never reads a clock of its own (DESIGN.md §2).
public protocol NanosecondClock: Sendable {
    func nowNs() -> Int64
}
