import GRPCCore
import GRPCNIOTransportHTTP2
import NexusProtocol

/// A node's side of the control plane: register with the scheduler (again and again until it answers),
/// then beat every beacon; when the scheduler no longer knows the node (it restarted, or declared the node
/// dead), register afresh. Scheduler state is soft (DESIGN.md §2), so this is all recovery needs.
struct ControlLoop: Sendable {
    let scheduler: HostPort
    let registration: Nexus_Cluster_RegisterRequest
    let log: ServerLog
    /// Called with every registration's reply (a frontend learns its applications from it).
    let onRegistered: @Sendable (Nexus_Cluster_RegisterReply) async throws -> Void
    /// Called every beacon with the node id; returns false when the scheduler did not know the node.
    let beat: @Sendable (Nexus_Cluster_Scheduler.Client<HTTP2ClientTransport.Posix>, UInt64) async throws -> Bool

    func run() async throws {
        try await withGRPCClient(transport: try Transport.clientTransport(scheduler)) { client in
            let scheduler = Nexus_Cluster_Scheduler.Client(wrapping: client)
            var nodeID: UInt64?
            var beaconMs: Int64 = 1000
            var lastError = ""
            while !Task.isCancelled {
                do {
                    if let id = nodeID {
                        if try await !beat(scheduler, id) {
                            log.info("the scheduler no longer knows node \(id); registering again")
                            nodeID = nil
                            continue
                        }
                    } else {
                        let reply = try await scheduler.register(registration)
                        nodeID = reply.nodeID
                        beaconMs = max(10, reply.beaconIntervalMs)
                        try await onRegistered(reply)
                        log.info("registered with the scheduler at \(self.scheduler) as node \(reply.nodeID)")
                        lastError = ""
                    }
                } catch {
                    if Task.isCancelled { break }
                    let message = "\(error)"
                    if message != lastError { log.info("scheduler \(self.scheduler) unreachable (\(message)); retrying every second") }
                    lastError = message
                    nodeID = nil
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                try? await Task.sleep(for: .milliseconds(beaconMs))
            }
            if let nodeID { await unregister(nodeID) }
        }
    }

    /// A node that leaves cleanly is re-planned at once instead of after 3 beacons. The caller is being
    /// cancelled, and with it the loop's client, so the call runs in a task and on a client of its own.
    func unregister(_ nodeID: UInt64) async {
        let scheduler = self.scheduler
        await Task.detached(executorPreference: EventLoops.shared) {
            var options = CallOptions.defaults
            options.timeout = .seconds(2)
            _ = try? await withGRPCClient(transport: try Transport.clientTransport(scheduler)) { client in
                try await Nexus_Cluster_Scheduler.Client(wrapping: client)
                    .unregister(.with { $0.nodeID = nodeID }, options: options)
            }
        }.value
    }
}
