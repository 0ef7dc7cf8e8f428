/// Why the scheduler planned: what logs print, what the simulator's epoch log and the metrics count.
public enum PlanCause: Sendable, Equatable, CustomStringConvertible {
    /// The first plan of a run that starts with its backends registered (the simulator).
    case start
    /// `epochNs` passed since the last plan.
    case epoch
    /// A session's measured rate left the stability band.
    case rateChanged(sessionID: String)
    case backendJoined(nodeID: UInt64, device: String, address: String)
    case backendLeft(nodeID: UInt64)
    /// Silent for `deadAfterBeacons` beacons.
    case backendSilent(nodeID: UInt64, beacons: Int)
    /// A frontend could not reach it, and neither could the scheduler.
    case backendUnreachable(nodeID: UInt64, reason: String)
    /// An operator's or a test's request.
    case requested(String)

    /// A short label: start, epoch, rate, backend_joined, backend_left, backend_silent, backend_unreachable, requested.
    public var kind: String {
        switch self {
        case .start: return "start"
        case .epoch: return "epoch"
        case .rateChanged: return "rate"
        case .backendJoined: return "backend_joined"
        case .backendLeft: return "backend_left"
        case .backendSilent: return "backend_silent"
        case .backendUnreachable: return "backend_unreachable"
        case .requested: return "requested"
        }
    }

    public var description: String {
        switch self {
        case .start: return "start"
        case .epoch: return "epoch"
        case let .rateChanged(session): return "rate of \(session) left the band"
        case let .backendJoined(node, device, address): return "backend \(node) joined (\(device), \(address))"
        case let .backendLeft(node): return "backend \(node) left"
        case let .backendSilent(node, beacons): return "backend \(node) silent for \(beacons) beacons"
        case let .backendUnreachable(node, reason): return "backend \(node) unreachable (\(reason))"
        case let .requested(reason): return reason
        }
    }
}
