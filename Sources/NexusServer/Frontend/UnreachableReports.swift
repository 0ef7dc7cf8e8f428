import GRPCCore
import Logging
import NexusProtocol
import Synchronization

/// Tells the scheduler at once that this frontend cannot reach a backend, so it plans without it in
/// milliseconds rather than after 3 silent beacons. One report per backend at a time; while it is out the
/// backend is skipped (`FrontendRoutes.markUnreachable`), and if the scheduler reaches it after all, it is
/// routed to again.
final class UnreachableReports: Sendable {
    private let scheduler: SchedulerAddress
    private let identity: NodeIdentity
    private let routes: FrontendRoutes
    private let clients: NodeClients
    private let logger: Logger
    private let inFlight = Mutex<Set<UInt64>>([])

    init(scheduler: SchedulerAddress, identity: NodeIdentity, routes: FrontendRoutes, limits: TransportLimits, logger: Logger) {
        self.scheduler = scheduler
        self.identity = identity
        self.routes = routes
        clients = NodeClients(limits: limits)
        self.logger = logger
    }

    /// Skips `backend` and reports it, unless a report of it is already out. Does not wait for the answer.
    func report(backend: UInt64, reason: String) {
        routes.markUnreachable(backend)
        guard inFlight.withLock({ $0.insert(backend).inserted }) else { return }
        Task(executorPreference: EventLoops.shared) {
            defer { _ = self.inFlight.withLock { $0.remove(backend) } }
            do {
                let address = try await self.scheduler.resolve()
                var options = CallOptions.defaults
                options.timeout = .seconds(2)
                let reply = try await Nexus_Cluster_Scheduler.Client(wrapping: try self.clients.client(for: address.description))
                    .reportUnreachable(.with {
                        $0.nodeID = self.identity.current ?? 0
                        $0.backendNodeID = backend
                        $0.reason = reason
                    }, options: options)
                if !reply.removed { self.routes.restore(backend) }
                self.logger.info("reported backend \(backend) unreachable (\(reason)): \(reply.removed ? "planned away" : "the scheduler reaches it; kept")")
            } catch {
                // The scheduler is unreachable too: the backend stays skipped until the next route update.
                self.logger.warning("could not report backend \(backend) unreachable: \(error)")
            }
        }
    }

    func closeAll() { clients.closeAll() }
}
