import NexusCore
import NexusProtocol
import Synchronization

/// The frontend's copy of the latest route update: which session and budget serve each application stage,
/// and a weighted deficit round robin over each session's backends (DESIGN.md §3.6).
final class FrontendRoutes: Sendable {
    struct State {
        var version: UInt64 = 0
        var bindings: [String: StageBinding] = [:]
        var routers: [String: DeficitRoundRobin<RouteTarget>] = [:]
    }

    private let state = Mutex(State())

    var version: UInt64 { state.withLock { $0.version } }

    func update(_ message: Nexus_Cluster_RouteUpdate) {
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
        state.withLock { state in
            guard message.version >= state.version else { return }
            state = State(version: message.version, bindings: bindings, routers: routers)
        }
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

    /// The next backend of `session`, skipping `excluded` (a retry after a failure there).
    func pick(session: String, excluding excluded: UInt64?) -> RouteTarget? {
        state.withLock { state in
            state.routers[session]?.next { $0.nodeID != excluded }
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
