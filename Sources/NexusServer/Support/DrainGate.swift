import NexusCore
import Synchronization

/// A server's work in flight (client requests on a frontend), and the switch that turns new work away
/// once the process drains. Graceful shutdown (SIGTERM): `beginDraining`, wait until idle or the drain
/// deadline, then `closeStreams` so the long-lived streams end after answering what they read.
final class DrainGate: Sendable {
    private struct State {
        var inFlight = 0
        var draining = false
        var idleWaiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    /// Opens when the streams must stop reading: every request they read has been answered.
    let streamsClosing = Latch()

    /// Admits one unit of work, or returns false while draining (the caller answers UNAVAILABLE).
    func enter() -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.inFlight += 1
            return true
        }
    }

    /// One admitted unit of work has been answered.
    func leave() {
        state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.inFlight -= 1
            guard state.inFlight == 0 else { return nil }
            defer { state.idleWaiter = nil }
            return state.idleWaiter
        }?.resume()
    }

    var isDraining: Bool { state.withLock { $0.draining } }
    var inFlight: Int { state.withLock { $0.inFlight } }

    /// From now on `enter` refuses; returns the work in flight at this moment.
    @discardableResult
    func beginDraining() -> Int {
        state.withLock { state in
            state.draining = true
            return state.inFlight
        }
    }

    /// Waits until nothing is in flight; false when `deadlineNs` (on `clock`) came first. One waiter at a time
    /// (the server's drain).
    func waitUntilIdle(deadlineNs: Int64, clock: any NanosecondClock) async -> Bool {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.state.park(at: \.idleWaiter) { $0.inFlight == 0 } }
            group.addTask { try? await Task.sleep(for: .nanoseconds(max(0, deadlineNs - clock.nowNs()))) }
            await group.next()
            group.cancelAll()
        }
        return inFlight == 0
    }
}

/// The end of a process's drain, shared by its services: the first to drain sets it `timeoutNs` after
/// that moment, and every later one (in `nexus serve`: backends after the frontend, then the scheduler)
/// keeps to the same deadline, so the whole process stops within `--drain-timeout-s` of the signal.
public final class DrainDeadline: Sendable {
    public let timeoutNs: Int64
    private let deadline = Mutex<Int64?>(nil)

    public init(timeoutNs: Int64) {
        precondition(timeoutNs >= 0, "drain timeout must be >= 0 ns, got \(timeoutNs)")
        self.timeoutNs = timeoutNs
    }

    /// The deadline, set on the first call from `nowNs`.
    func deadlineNs(nowNs: Int64) -> Int64 {
        deadline.withLock { deadline in
            if let existing = deadline { return existing }
            let (sum, overflow) = nowNs.addingReportingOverflow(timeoutNs)
            deadline = overflow ? .max : sum
            return deadline!
        }
    }

    /// 30 s: a batch on a busy GPU and its queue behind it finish well within it; Kubernetes' default
    /// grace period is the same, so a pod is not killed mid-drain.
    public static let defaultTimeoutNs: Int64 = 30_000_000_000
}
