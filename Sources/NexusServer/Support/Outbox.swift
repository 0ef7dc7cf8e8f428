import Synchronization

/// Answers produced on executor threads, handed to one writer task in whatever batches have accumulated
/// since its last write: one stream message carries many replies at high rates and one at low rates,
/// with no timer. `next()` returns nil once input has finished and every expected item was taken, or once
/// its task is cancelled.
final class Outbox<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var expected = 0
        var inputFinished = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// One more item will come.
    func expect() { state.withLock { $0.expected += 1 } }

    func add(_ item: Item) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.items.append(item)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func finishInput() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.inputFinished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The writer is parked in `next` (for tests).
    var writerIsWaiting: Bool { state.withLock { $0.waiter != nil } }

    func next() async -> [Item]? {
        while true {
            let step = state.withLock { state -> OutboxStep<Item> in
                if !state.items.isEmpty {
                    let items = state.items
                    state.items = []
                    state.expected -= items.count
                    return .items(items)
                }
                return state.inputFinished && state.expected <= 0 ? .done : .wait
            }
            switch step {
            case let .items(items): return items
            case .done: return nil
            case .wait:
                if Task.isCancelled { return nil }
                // A cancelled writer (its stream broke) must wake, or the handler waiting for it never ends
                // and the server's graceful shutdown waits forever.
                await state.park(at: \.waiter) { !$0.items.isEmpty || ($0.inputFinished && $0.expected <= 0) }
            }
        }
    }
}

enum OutboxStep<Item> {
    case items([Item]), done, wait
}
