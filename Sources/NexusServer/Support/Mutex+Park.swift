import Synchronization

extension Mutex where Value: Copyable {
    /// Suspends the calling task until someone takes the continuation kept at `waiter` and resumes it, or
    /// its task is cancelled; returns at once when `ready` holds. `ready` and the parking are checked under
    /// this lock, as is the cancellation handler's take, so a wake-up can fall neither between the check
    /// and the parking nor before the handler is installed.
    func park(at waiter: WritableKeyPath<Value, CheckedContinuation<Void, Never>?> & Sendable, unless ready: (Value) -> Bool) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = withLock { value -> Bool in
                    if ready(value) || Task.isCancelled { return true }
                    value[keyPath: waiter] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            withLock { value in
                defer { value[keyPath: waiter] = nil }
                return value[keyPath: waiter]
            }?.resume()
        }
    }
}
