import NexusCore
import NexusProtocol
import NexusRuntime
import Synchronization

/// The frontend's copy of the latest route update: which session and budget serve each application stage,
/// and a weighted deficit round robin over each session's backends (DESIGN.md §3.6).
///
/// Backends this frontend found unreachable are skipped until the next update (the scheduler plans without
/// them, or says they live: `restore`), and a call with no backend left can wait for that update.
final class FrontendRoutes: Sendable {
    struct State {
        /// Counts the updates applied here: what waiting calls compare, so it only grows.
        var version: UInt64 = 0
        /// The scheduler's version of the last update applied; older ones are stale. A restarted scheduler
        /// numbers its plans from 1 again, so registering with a scheduler resets it (`expectNewScheduler`).
        var schedulerVersion: UInt64 = 0
        var bindings: [String: StageBinding] = [:]
        var routers: [String: DeficitRoundRobin<RouteTarget>] = [:]
        var unreachable: Set<UInt64> = []
        /// Calls waiting for an update after the version they saw.
        var waiters: [(id: UInt64, after: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    var version: UInt64 { state.withLock { $0.version } }
    /// Calls waiting for an update now.
    var waiterCount: Int { state.withLock { $0.waiters.count } }

    /// Applies `message` unless an update with a later version of the same scheduler came first; false then.
    @discardableResult
    func update(_ message: Nexus_Cluster_RouteUpdate) -> Bool {
        var bindings: [String: StageBinding] = [:]
        for stage in message.stages {
            bindings[FrontendApplication.stageKey(application: stage.application, stage: stage.stage)] = StageBinding(
                application: stage.application, stage: stage.stage, sessionID: stage.sessionID, budgetMs: stage.budgetMs)
        }
        var routers: [String: DeficitRoundRobin<RouteTarget>] = [:]
        for route in message.routes {
            routers[route.sessionID] = DeficitRoundRobin(route.targets.map { target in
                (RouteTarget(nodeID: target.nodeID, address: target.address, ratePerSecond: target.ratePerSecond),
                 target.ratePerSecond)
            })
        }
        let woken = state.withLock { state -> [CheckedContinuation<Bool, Never>]? in
            guard message.version >= state.schedulerVersion else { return nil }
            let waiters = state.waiters
            state = State(version: state.version + 1, schedulerVersion: message.version, bindings: bindings,
                          routers: routers, nextWaiter: state.nextWaiter)
            return waiters.map(\.continuation)
        }
        for continuation in woken ?? [] { continuation.resume(returning: true) }
        return woken != nil
    }

    /// This frontend (re-)registered with a scheduler, which may be a restarted one numbering its updates from
    /// 1: its next update applies whatever its version. The routes held serve until then.
    func expectNewScheduler() { state.withLock { $0.schedulerVersion = 0 } }

    /// Skips `nodeID` until the next update or `restore`.
    func markUnreachable(_ nodeID: UInt64) { state.withLock { _ = $0.unreachable.insert(nodeID) } }

    /// The scheduler reached `nodeID` after all: route to it again, and wake the calls waiting for routes,
    /// which would otherwise wait for an update that does not come (the plan did not change).
    func restore(_ nodeID: UInt64) {
        let woken = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard state.unreachable.remove(nodeID) != nil else { return [] }
            state.version += 1
            defer { state.waiters = [] }
            return state.waiters.map(\.continuation)
        }
        for continuation in woken { continuation.resume(returning: true) }
    }

    /// Waits until an update newer than `version` arrives (true), or until `deadlineNs` (false).
    func waitForUpdate(after version: UInt64, deadlineNs: Int64, clock: MonotonicClock) async -> Bool {
        let waitNs = deadlineNs - clock.nowNs()
        guard waitNs > 0 else { return false }
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let timeout = Task {
            try? await Task.sleep(for: .nanoseconds(waitNs))
            self.resumeWaiter(id, with: false)
        }
        defer { timeout.cancel() }
        return await withCheckedContinuation { continuation in
            let already = state.withLock { state -> Bool in
                if state.version > version { return true }
                state.waiters.append((id, version, continuation))
                return false
            }
            if already { continuation.resume(returning: true) }
        }
    }

    private func resumeWaiter(_ id: UInt64, with value: Bool) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index).continuation
        }
        waiter?.resume(returning: value)
    }

    /// The binding of "application/stage" (`FrontendApplication.stageKey`).
    func binding(key: String) -> StageBinding? {
        state.withLock { $0.bindings[key] }
    }

    /// The binding of each stage key, under one lock; nil when any stage has none.
    func bindings(keys: [String]) -> [StageBinding]? {
        state.withLock { state in
            var found: [StageBinding] = []
            found.reserveCapacity(keys.count)
            for key in keys {
                guard let binding = state.bindings[key] else { return nil }
                found.append(binding)
            }
            return found
        }
    }

    /// The next backend of `session`, skipping `excluded` (a retry after a failure there) and the backends
    /// marked unreachable.
    func pick(session: String, excluding excluded: UInt64? = nil) -> RouteTarget? {
        state.withLock { state in
            let unreachable = state.unreachable
            return state.routers[session]?.next { $0.nodeID != excluded && !unreachable.contains($0.nodeID) }
        }
    }

    /// What the plan gives `application`'s first stage: the sum of its session's route rates (0 unrouted).
    func plannedRatePerSecond(rootKey: String) -> Double {
        state.withLock { state in
            guard let session = state.bindings[rootKey]?.sessionID else { return 0 }
            return state.routers[session]?.targets.reduce(0) { $0 + $1.ratePerSecond } ?? 0
        }
    }

    /// Every stage of the application has a session with at least one backend.
    func isReady(application: ServedApplication) -> Bool {
        state.withLock { state in
            application.spec.stages.allSatisfy { stage in
                guard let binding = state.bindings[FrontendApplication.stageKey(application: application.name, stage: stage.name)] else { return false }
                return !(state.routers[binding.sessionID]?.isEmpty ?? true)
            }
        }
    }
}
