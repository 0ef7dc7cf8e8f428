import Synchronization

/// Opens once, and stays open; any number of tasks wait for it (a server's bound address, the moment its
/// streams must close). A waiting task whose own task is cancelled stops waiting.
final class Latch: Sendable {
    private struct State {
        var isOpen = false
        var nextID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    var isOpen: Bool { state.withLock { $0.isOpen } }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isOpen = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the latch is open, or at once when the calling task is cancelled.
    func wait() async {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.isOpen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// The address a server bound, for whoever needs it before the server has started (a node's control loop
/// registers it; `nexus serve`'s nodes reach the scheduler at it).
final class BoundAddress: Sendable {
    private let address = Mutex<HostPort?>(nil)
    private let bound = Latch()

    func set(_ value: HostPort) {
        address.withLock { $0 = value }
        bound.open()
    }

    /// Waits until the server has bound; throws `CancellationError` when the caller is cancelled first.
    func value() async throws -> HostPort {
        await bound.wait()
        guard let value = address.withLock({ $0 }) else { throw CancellationError() }
        return value
    }

    var current: HostPort? { address.withLock { $0 } }
}
