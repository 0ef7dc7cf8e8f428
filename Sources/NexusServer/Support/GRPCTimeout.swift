/// gRPC's `grpc-timeout` request header (PROTOCOL-HTTP2.md: at most 8 ASCII digits, then a unit H, M, S, m,
/// u or n), as nanoseconds. The transport also cancels the call when it expires; Nexus reads it too so that
/// the request's stages are planned against it and backends drop work that can no longer be answered in time.
enum GRPCTimeout {
    static let header = "grpc-timeout"

    /// Nil for a value that is not a valid `grpc-timeout` (the call then keeps its SLO deadline); a value
    /// beyond what an Int64 of nanoseconds holds (only hours reach it) is clamped.
    static func nanoseconds(_ value: String) -> Int64? {
        let bytes = Array(value.utf8)
        guard (2...9).contains(bytes.count), let unit = bytes.last else { return nil }
        var amount: Int64 = 0
        for byte in bytes.dropLast() {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            amount = amount * 10 + Int64(byte - UInt8(ascii: "0"))   // 8 digits: no overflow
        }
        let nsPerUnit: Int64
        switch unit {
        case UInt8(ascii: "H"): nsPerUnit = 3_600_000_000_000
        case UInt8(ascii: "M"): nsPerUnit = 60_000_000_000
        case UInt8(ascii: "S"): nsPerUnit = 1_000_000_000
        case UInt8(ascii: "m"): nsPerUnit = 1_000_000
        case UInt8(ascii: "u"): nsPerUnit = 1_000
        case UInt8(ascii: "n"): nsPerUnit = 1
        default: return nil
        }
        let (ns, overflow) = amount.multipliedReportingOverflow(by: nsPerUnit)
        return overflow ? .max : ns
    }

    /// The deadline a call that arrived at `arrivalNs` must meet, `.max` without a (valid) header.
    static func deadlineNs(_ value: String?, arrivalNs: Int64) -> Int64 {
        guard let value, let ns = nanoseconds(value) else { return .max }
        let (deadline, overflow) = arrivalNs.addingReportingOverflow(ns)
        return overflow ? .max : deadline
    }
}
