import GRPCCore
import NexusCore
import NexusProtocol
import Synchronization

/// Deciding that a backend is dead, fast and without false alarms (issue 11): a frontend that cannot reach a
/// backend reports it at once, and the scheduler plans without it as soon as its own probe fails too, instead
/// of after 3 silent beacons; a backend whose beats are late but that answers the probe (too busy to beat
/// on time) is kept.
extension SchedulerServer {
    /// nil when `node` answers a Ping within `--link-timeout-ms` (as a frontend's link probe waits), else why
    /// not. Short, because a reported backend's calls wait for the plan that follows; a live backend wrongly
    /// planned away registers again at its next beat.
    func probe(_ node: ClusterNode) async -> String? {
        do {
            var call = CallOptions.defaults
            call.timeout = .milliseconds(options.limits.linkTimeoutMs)
            call.waitForReady = false
            let client = try clients.client(for: node.address)
            _ = try await Nexus_Cluster_Backend.Client(wrapping: client).ping(Nexus_Cluster_PingRequest(), options: call)
            return nil
        } catch let error as RPCError {
            return "\(error.code): \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    /// Probes the backends the next beacon would declare dead, concurrently; those that answer count as seen.
    func probeOverdueBackends() async {
        let overdue = state.withLock { $0.overdueNodes(nowNs: clock.nowNs()) }.filter { $0.kind == .backend }
        guard !overdue.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            for node in overdue {
                group.addTask {
                    guard await self.probe(node) == nil else { return }
                    let now = self.clock.nowNs()
                    _ = self.state.withLock { $0.heartbeat(nodeID: node.id, utilization: node.utilization, nowNs: now) }
                    self.logger.warning("backend \(node.id) (\(node.address)) missed its beats but answers: kept")
                }
            }
        }
    }

    /// A frontend's report that it cannot reach `backend_node_id`: probed once (concurrent reports of the same
    /// backend share the probe), and planned away at once when the probe fails. True when it was removed.
    func reportUnreachable(_ report: Nexus_Cluster_UnreachableReport) async -> Bool {
        let target = report.backendNodeID
        guard let node = state.withLock({ $0.nodes[target] }), node.kind == .backend else { return false }
        guard probing.withLock({ $0.insert(target).inserted }) else { return false }
        defer { _ = probing.withLock { $0.remove(target) } }
        guard let failure = await probe(node) else {
            logger.info("frontend \(report.nodeID) could not reach backend \(target) (\(report.reason)), but it answers: kept")
            return false
        }
        let now = clock.nowNs()
        let reason = "frontend \(report.nodeID): \(ClientText.quote(report.reason)); scheduler: \(failure)"
        let changed = state.withLock { state -> Bool in
            guard state.declareUnreachable(nodeID: target, reason: reason) else { return false }
            return (try? state.update(nowNs: now)) ?? false
        }
        pushes.withLock { _ = $0.removeValue(forKey: target) }
        logger.warning("backend \(target) (\(node.address)) is unreachable; planned without it: \(reason)")
        if changed { logPlan() }
        pushPending()
        return true
    }
}
