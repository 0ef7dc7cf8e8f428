import NexusCore
import NexusRuntime
import Synchronization

/// Sheds load at the door (issue 11): an application may hold at most as many requests in this frontend as
/// its root session can finish within the SLO at the rate the plan gives it (Little's law: in flight =
/// rate x latency), times `slack`; beyond that a request is refused at once with RESOURCE_EXHAUSTED instead
/// of queueing where its time runs out unseen (the frontend's event loops, the backends' queues). Under 10x
/// overload the frontend then spends its CPU on the requests it can serve, and memory stays bounded.
final class Admission: Sendable {
    /// Headroom over Little's law: batching makes in-flight counts bursty, and a plan lags a rise by a
    /// report (`SchedulerState.checkSuddenRise`), during which the backends' early drop already answers
    /// what cannot make its deadline. Measured (bench/overload.sh, traffic at 10x): 4 let in a backlog that
    /// expired queued (goodput 0.39 of the max rate, RSS 2.8x); 1.5 gave 0.63 and 1.4x.
    static let slack = 1.5
    /// Never fewer than this in flight, whatever the plan says: a cold start plans for 1 request/s, and a
    /// burst of a thousand requests on one connection is a client's right, not an overload.
    static let minimumInFlight = 1024

    private let inFlight = Mutex<[String: Int]>([:])

    /// The most requests `application` may hold now.
    static func capacity(plannedRatePerSecond: Double, latencySLOMs: Double) -> Int {
        let littles = plannedRatePerSecond * latencySLOMs / 1000 * slack
        guard littles.isFinite else { return minimumInFlight }
        return max(minimumInFlight, Int(min(littles.rounded(.up), Double(Int32.max))))
    }

    /// Takes a place for a request of `application`, or says why not.
    func admit(_ application: String, capacity: Int) -> InferenceError? {
        inFlight.withLock { counts -> InferenceError? in
            let held = counts[application, default: 0]
            guard held < capacity else {
                return .resourceExhausted("application '\(application)' holds \(held) requests in this frontend, "
                    + "all its planned capacity can finish within its SLO (limit \(capacity)); retry later or slow down")
            }
            counts[application] = held + 1
            return nil
        }
    }

    func release(_ application: String) {
        inFlight.withLock { counts in counts[application] = max(0, counts[application, default: 1] - 1) }
    }

    func held(_ application: String) -> Int { inFlight.withLock { $0[application, default: 0] } }
}
