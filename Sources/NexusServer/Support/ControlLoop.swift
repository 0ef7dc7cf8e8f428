import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NexusProtocol
import ServiceLifecycle
import Synchronization

/// Where a node finds the scheduler: a fixed address, or (`nexus serve`) whatever the scheduler of the
/// same process binds.
public struct SchedulerAddress: Sendable, CustomStringConvertible {
    let resolve: @Sendable () async throws -> HostPort
    public let description: String

    public static func fixed(_ address: HostPort) -> Self {
        Self(resolve: { address }, description: address.description)
    }

    public static func bound(by scheduler: SchedulerServer) -> Self {
        Self(resolve: { try await scheduler.listeningAddress() }, description: "the scheduler of this process")
    }
}

/// The node id the scheduler gave, for the metadata of a node's log lines.
final class NodeIdentity: Sendable {
    private let id = Mutex<UInt64?>(nil)

    var current: UInt64? { id.withLock { $0 } }
    func set(_ value: UInt64?) { id.withLock { $0 = value } }

    /// `logger` with `node` metadata once the node is registered.
    func tag(_ logger: Logger) -> Logger {
        guard let current else { return logger }
        var tagged = logger
        tagged[metadataKey: "node"] = "\(current)"
        return tagged
    }
}

/// A node's side of the control plane: register with the scheduler (again and again until it answers),
/// then beat every beacon; when the scheduler no longer knows the node (it restarted, or declared the node
/// dead), register afresh. Scheduler state is soft (DESIGN.md §2), so this is all recovery needs.
///
/// A `Service`: on graceful shutdown it stops and unregisters, so the scheduler plans without the node at
/// once instead of after 3 silent beacons. It comes after its server in a service group, so the group
/// shuts it down first: a node leaves the plan, then drains.
public struct ControlLoop: Service, CustomStringConvertible {
    let scheduler: SchedulerAddress
    /// The registration, once the node's server has bound (its address is in it).
    let registration: @Sendable () async throws -> Nexus_Cluster_RegisterRequest
    let limits: TransportLimits
    let identity: NodeIdentity
    let logger: Logger
    /// Called with every registration's reply (a frontend learns its applications from it).
    let onRegistered: @Sendable (Nexus_Cluster_RegisterReply) async throws -> Void
    /// Called every beacon with the node id; returns false when the scheduler did not know the node.
    let beat: @Sendable (Nexus_Cluster_Scheduler.Client<HTTP2ClientTransport.Posix>, UInt64) async throws -> Bool
    /// Beats per beacon: a frontend reports its counts `SchedulerConfig.reportsPerBeacon` times a beacon, so
    /// a sudden rise reaches the scheduler within a fraction of a beacon; a backend beats once.
    var beatsPerBeacon = 1

    /// Its name in the service group's log.
    public var description: String { "\(logger.label) control loop" }

    public func run() async throws {
        let address = try await scheduler.resolve()
        let registration = try await self.registration()
        try await withGRPCClient(transport: try Transport.clientTransport(address, limits: limits)) { client in
            let scheduler = Nexus_Cluster_Scheduler.Client(wrapping: client)
            var beaconMs: Int64 = 1000
            var lastError = ""
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                do {
                    if let waitMs = try await step(scheduler, registration: registration, address: address) {
                        beaconMs = waitMs
                    }
                    lastError = ""
                } catch {
                    if Task.isShuttingDownGracefully || Task.isCancelled { break }
                    let message = "\(error)"
                    if message != lastError {
                        identity.tag(logger).warning(
                            "scheduler \(address) unreachable (\(message)); retrying every second")
                    }
                    lastError = message
                    identity.set(nil)
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
                    continue
                }
                try? await cancelWhenGracefulShutdown { [beaconMs, beatsPerBeacon] in
                    try await Task.sleep(for: .milliseconds(max(1, beaconMs / Int64(beatsPerBeacon))))
                }
            }
        }
        if let nodeID = identity.current { await unregister(nodeID, at: address) }
    }

    /// Registers or beats once; returns the beacon interval after a registration. A graceful shutdown
    /// cuts a call short (the node unregisters next).
    private func step(_ scheduler: Nexus_Cluster_Scheduler.Client<HTTP2ClientTransport.Posix>,
                      registration: Nexus_Cluster_RegisterRequest, address: HostPort) async throws -> Int64? {
        if let id = identity.current {
            let known = try await cancelWhenGracefulShutdown { try await beat(scheduler, id) }
            if !known {
                identity.tag(logger).info("the scheduler no longer knows node \(id); registering again")
                identity.set(nil)
            }
            return nil
        }
        let reply = try await cancelWhenGracefulShutdown { try await scheduler.register(registration) }
        identity.set(reply.nodeID)
        try await onRegistered(reply)
        identity.tag(logger).info("registered with the scheduler at \(address) as node \(reply.nodeID)")
        return max(10, reply.beaconIntervalMs)
    }

    /// A node that leaves cleanly is re-planned at once instead of after 3 beacons. On a client of its own
    /// and in a task of its own: the loop's client, and on cancellation the loop's task, are going away.
    func unregister(_ nodeID: UInt64, at address: HostPort) async {
        let limits = self.limits
        let done = await Task.detached(executorPreference: EventLoops.shared) { () -> Bool in
            var options = CallOptions.defaults
            options.timeout = .seconds(2)
            let transport = try? Transport.clientTransport(address, limits: limits)
            guard let transport else { return false }
            return (try? await withGRPCClient(transport: transport) { client in
                _ = try await Nexus_Cluster_Scheduler.Client(wrapping: client)
                    .unregister(.with { $0.nodeID = nodeID }, options: options)
                return true
            }) ?? false
        }.value
        let logger = identity.tag(self.logger)
        if done {
            logger.info("unregistered from the scheduler")
        } else {
            logger.warning(
                "could not unregister from the scheduler at \(address); it will drop node \(nodeID) after 3 beacons")
        }
        identity.set(nil)
    }
}
