import Synchronization

/// What a frontend tells the scheduler its applications ask for, between two reports: the calls of each
/// stage ("app/stage"), or, when the frontend refused some requests at the door, what every request that
/// arrived would have called: arrivals x the stage's calls per admitted request. Without that an overload
/// hides itself: refused requests make no calls, so the scheduler would plan for what was admitted, and a
/// child stage, which only sees the requests whose parent succeeded, for less than its share of the tree.
///
/// Calls per admitted request come from sums that decay by `decay` a report (about 10 s at 4 reports a
/// beacon of 2 s), not from one report: a child's calls follow its parent's admission by a request's
/// latency, and while the admitted count moves (an adaptive limit settling) one report's ratio is noise
/// (measured: it planned two GPUs for a child and a third of one for the root of traffic at 10x).
final class DemandCounts: Sendable {
    static let decay = 0.95

    private struct State {
        var calls: [String: Int] = [:]
        /// Per application: requests that arrived, and those admitted.
        var arrived: [String: Int] = [:]
        var admitted: [String: Int] = [:]
        /// Decaying sums of calls per stage key and admitted requests per application.
        var callSums: [String: Double] = [:]
        var admittedSums: [String: Double] = [:]
    }

    private let state = Mutex(State())

    /// A request of `application` arrived; `admitted` says whether it was let in.
    func arrival(application: String, admitted: Bool) {
        state.withLock { state in
            state.arrived[application, default: 0] += 1
            if admitted { state.admitted[application, default: 0] += 1 }
        }
    }

    /// One model call of stage `stageKey` ("application/stage").
    func call(stageKey: String) { state.withLock { $0.calls[stageKey, default: 0] += 1 } }

    /// The demand since the last `take`, per stage key; counting starts again. `rootKeys`: each
    /// application's root stage key, where an application that has admitted nothing yet reports its arrivals.
    func take(rootKeys: [String: String]) -> [String: Int] {
        state.withLock { state in
            defer {
                state.calls = [:]
                state.arrived = [:]
                state.admitted = [:]
            }
            return Self.fold(&state.callSums, &state.admittedSums, calls: state.calls, arrived: state.arrived,
                             admitted: state.admitted, rootKeys: rootKeys)
        }
    }

    /// One report: folds the interval's counts into the decaying sums and returns the demand per stage key.
    static func fold(_ callSums: inout [String: Double], _ admittedSums: inout [String: Double],
                     calls: [String: Int], arrived: [String: Int], admitted: [String: Int],
                     rootKeys: [String: String]) -> [String: Int] {
        for key in Set(callSums.keys).union(calls.keys) { callSums[key] = (callSums[key] ?? 0) * decay + Double(calls[key] ?? 0) }
        for app in Set(admittedSums.keys).union(admitted.keys) {
            admittedSums[app] = (admittedSums[app] ?? 0) * decay + Double(admitted[app] ?? 0)
        }
        var demand: [String: Int] = [:]
        for (key, count) in calls where refused(application(of: key), arrived, admitted) == 0 { demand[key] = count }
        for (app, came) in arrived where refused(app, arrived, admitted) > 0 {
            let admittedSum = admittedSums[app] ?? 0
            guard admittedSum > 0 else {
                if let root = rootKeys[app] { demand[root] = came }
                continue
            }
            for (key, sum) in callSums where application(of: key) == app {
                let perRequest = sum / admittedSum
                demand[key] = Int(min((Double(came) * perRequest).rounded(), Double(Int32.max)))
            }
        }
        return demand
    }

    static func application(of stageKey: String) -> String {
        String(stageKey.split(separator: "/", maxSplits: 1).first ?? "")
    }

    static func refused(_ app: String, _ arrived: [String: Int], _ admitted: [String: Int]) -> Int {
        max(0, (arrived[app] ?? 0) - (admitted[app] ?? 0))
    }
}
