import Metrics
import NexusCore

/// One session's metric handles on a backend, made once when the executor takes the session on, so the
/// device thread records into ready handles (swift-prometheus gauges and counters are atomics; a
/// histogram takes its own short lock, only on the device thread). Labelled with the session id the
/// scheduler gave it (a retired queue keeps the labels it was made with).
struct SessionMetrics {
    let queueLength: Gauge
    /// Time from a request joining the queue (decoded) to its batch starting.
    let queueDuration: Timer
    let batchSize: Recorder
    let batchDuration: Timer
    /// The profile's latency for the same batches: `sum(batch) / sum(profile)` is measured vs planned.
    let batchProfileDuration: Timer
    let earlyDrops: Counter

    init(sessionID: String) {
        let session = [("session", sessionID)]
        queueLength = Gauge(label: "nexus_backend_queue_length", dimensions: session)
        queueDuration = Timer(label: "nexus_backend_queue_duration_seconds", dimensions: session)
        batchSize = Recorder(label: "nexus_backend_batch_size", dimensions: session, aggregate: true)
        batchDuration = Timer(label: "nexus_backend_batch_duration_seconds", dimensions: session)
        batchProfileDuration = Timer(label: "nexus_backend_batch_profile_duration_seconds", dimensions: session)
        earlyDrops = Counter(label: "nexus_backend_early_drops_total", dimensions: session)
    }
}

/// A backend's device-wide metrics: busy time (its rate is the busy ratio), the table's duty cycle and
/// planned occupancy, and model loads.
struct DeviceMetrics {
    let busySeconds = FloatingPointCounter(label: "nexus_backend_device_busy_seconds_total")
    let dutyCycle = Gauge(label: "nexus_backend_duty_cycle_seconds")
    /// The share of the duty cycle the table's planned batches fill (the planner's occupancy).
    let plannedOccupancy = Gauge(label: "nexus_backend_planned_occupancy_ratio")

    func recordLoad(model: String, durationNs: Int64) {
        Counter(label: "nexus_backend_model_loads_total", dimensions: [("model", model)]).increment()
        Timer(label: "nexus_backend_model_load_duration_seconds", dimensions: [("model", model)])
            .recordNanoseconds(durationNs)
    }

    /// Occupancy: the planned latency of each session's full batch over the duty cycle (0 without one).
    func record(table: ModelTable) {
        dutyCycle.record(table.dutyCycleMs / 1000)
        let busyNs = table.sessions.reduce(Int64(0)) { $0 + ($1.plannedLatencyNs(batch: $1.maxBatch) ?? 0) }
        plannedOccupancy.record(table.dutyCycleMs > 0 ? Double(busyNs) / (table.dutyCycleMs * 1e6) : 0)
    }
}
