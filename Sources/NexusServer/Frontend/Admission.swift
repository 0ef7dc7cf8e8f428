import NexusCore
import NexusRuntime
import Synchronization

/// Sheds load at the door (issue 11): an application may hold at most as many requests in this frontend as
/// its `AdaptiveConcurrencyLimit` allows, learnt from how its requests end and capped by what its root
/// session can finish within the SLO at the rate the plan gives it (Little's law: in flight = rate x latency,
/// times `slack`); beyond that a request is refused at once with RESOURCE_EXHAUSTED instead of queueing where
/// its time runs out unseen (the frontend's event loops, the backends' queues) or failing at a child stage
/// after its parent's GPU time was spent. Under 10x overload the frontend then spends its CPU and the
/// backends their GPU time on the requests that can make their SLO, and memory stays bounded.
final class Admission: Sendable {
    /// Headroom of the ceiling over Little's law: batching makes in-flight counts bursty, and a plan lags a
    /// rise by a report (`SchedulerState.checkSuddenRise`). The adaptive limit does the rest.
    static let slack = 1.5
    /// The ceiling is never below this, whatever the plan says: a cold start plans for 1 request/s, and a
    /// burst of a thousand requests on one connection is a client's right, not an overload. Only missed
    /// SLOs bring the adaptive limit under it.
    static let minimumInFlight = 1024

    private let limits = Mutex<[String: AdaptiveConcurrencyLimit]>([:])

    /// The ceiling of `application`'s limit now.
    static func capacity(plannedRatePerSecond: Double, latencySLOMs: Double) -> Int {
        let littles = plannedRatePerSecond * latencySLOMs / 1000 * slack
        guard littles.isFinite else { return minimumInFlight }
        return max(minimumInFlight, Int(min(littles.rounded(.up), Double(Int32.max))))
    }

    /// Takes a place for a request of `application` (the ticket to give back to `release`), or says why not.
    func admit(_ application: String, capacity: Int) -> Result<AdaptiveConcurrencyLimit.Ticket, InferenceError> {
        limits.withLock { limits in
            if let ticket = limits[application, default: AdaptiveConcurrencyLimit()].admit(ceiling: capacity) { return .success(ticket) }
            let held = limits[application]!.inFlight
            let limit = Int(limits[application]!.limit ?? Double(capacity))
            return .failure(.resourceExhausted("application '\(application)' holds \(held) requests in this frontend, as many "
                + "as it can finish within its SLO now (limit \(limit), learnt from missed SLOs, at most \(capacity) by its "
                + "planned rate); retry later or slow down"))
        }
    }

    /// A request let in by `admit` ended; `missedSLO` as `AdaptiveConcurrencyLimit.complete` takes it.
    func release(_ application: String, ticket: AdaptiveConcurrencyLimit.Ticket, missedSLO: Bool?) {
        limits.withLock { $0[application]?.complete(ticket, missedSLO: missedSLO) }
    }

    func held(_ application: String) -> Int { limits.withLock { $0[application]?.inFlight ?? 0 } }
}

extension InferenceError {
    /// Whether this answer says the cluster lacked capacity for the request (it counts against the adaptive
    /// limit), or nil when it is the client's own error and says nothing about capacity.
    var missedForCapacity: Bool? {
        switch self {
        case .invalidArgument, .notFound: nil
        case .resourceExhausted, .deadlineExceeded, .unavailable, .internalError: true
        }
    }
}
