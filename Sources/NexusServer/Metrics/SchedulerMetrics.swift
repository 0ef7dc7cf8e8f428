import Metrics
import NexusCore

/// The scheduler's metrics: how many plans it makes and why they change, how long planning takes, what a
/// plan costs against its lower bound, and the rates it plans for against those it measures. Off the
/// request path: updated when the state plans and once per beacon.
struct SchedulerMetrics: Sendable {
    /// Planning runs (every epoch trigger, join, leave or request), whether or not the plan changed.
    let epochs = Counter(label: "nexus_scheduler_epochs_total")
    let planDuration = Timer(label: "nexus_scheduler_plan_duration_seconds")
    let gpusPlanned = Gauge(label: "nexus_scheduler_gpus_planned")
    /// The fractional GPUs the sessions' rates need at their best batches (`Plan.lowerBoundGPUs`).
    let gpusLowerBound = Gauge(label: "nexus_scheduler_gpus_lower_bound")
    let backendsAlive = Gauge(label: "nexus_scheduler_nodes_alive", dimensions: [("kind", "backend")])
    let frontendsAlive = Gauge(label: "nexus_scheduler_nodes_alive", dimensions: [("kind", "frontend")])

    /// One planning run that took `durationNs`; `changedBy` is its cause when the assignment changed.
    func planned(durationNs: Int64, changedBy cause: PlanCause?) {
        epochs.increment()
        planDuration.recordNanoseconds(durationNs)
        if let cause {
            Counter(label: "nexus_scheduler_plan_changes_total", dimensions: [("reason", cause.kind)]).increment()
        }
    }

    /// The state as it stands: nodes, the current plan's size, and each planned session's rates.
    func observe(_ state: SchedulerState) {
        backendsAlive.record(state.nodes.values.filter { $0.kind == .backend }.count)
        frontendsAlive.record(state.nodes.values.filter { $0.kind == .frontend }.count)
        guard let plan = state.current?.plan else { return }
        gpusPlanned.record(plan.backends.count)
        gpusLowerBound.record(plan.lowerBoundGPUs)
        for rate in state.sessionRates() {
            let session = [("session", rate.sessionID)]
            Gauge(label: "nexus_scheduler_session_planned_rate_per_second", dimensions: session).record(rate.plannedPerSecond)
            Gauge(label: "nexus_scheduler_session_measured_rate_per_second", dimensions: session).record(rate.measuredPerSecond)
        }
    }
}
