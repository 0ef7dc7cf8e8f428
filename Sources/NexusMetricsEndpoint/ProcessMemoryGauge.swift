import Foundation
import Metrics

/// `nexus_process_resident_memory_bytes`: the process's resident set, read from /proc at each scrape
/// (Linux only; elsewhere it stays unset), so memory needs no timer of its own.
struct ProcessMemoryGauge: Sendable {
    let gauge = Gauge(label: "nexus_process_resident_memory_bytes")

    func update() {
        guard let bytes = Self.residentBytes() else { return }
        gauge.record(bytes)
    }

    /// The second field of /proc/self/statm, in pages.
    static func residentBytes() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int64(fields[1]) else { return nil }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
