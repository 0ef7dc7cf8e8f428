/// The profile CSV format, read and written here only (`nexus profile` writes it, the planner and the
/// SIMULATED runtime read it, python/gpu_profile.py emits the same columns):
/// `model,input,batch,eager_median_ms,graph_median_ms,graph_p99_ms,peak_mem_mb[,device]`.
///
/// Reading finds columns by header name, so extra columns (a `device` column in the project's own profiles)
/// and reordering are fine. Only `model`, `batch` and the chosen latency column are required.
public enum ProfileCSV {
    /// One measured batch size of one model: a line of the file.
    public struct Row: Equatable, Sendable {
        public var model: String
        /// The input's last dimension (e.g. 224), as the reference profiles record it.
        public var input: Int
        public var batch: Int
        /// Without CUDA graphs; on a CPU the same path as `graphMedianMs`.
        public var eagerMedianMs: Double
        /// The serving configuration.
        public var graphMedianMs: Double
        public var graphP99Ms: Double
        public var peakMemoryMB: Double
        /// Names the machine and library; commas are replaced, as the format cannot quote them.
        public var device: String

        public init(model: String, input: Int, batch: Int, eagerMedianMs: Double, graphMedianMs: Double, graphP99Ms: Double,
                    peakMemoryMB: Double, device: String) {
            self.model = model
            self.input = input
            self.batch = batch
            self.eagerMedianMs = eagerMedianMs
            self.graphMedianMs = graphMedianMs
            self.graphP99Ms = graphP99Ms
            self.peakMemoryMB = peakMemoryMB
            self.device = device
        }
    }

    public static let header = "model,input,batch,eager_median_ms,graph_median_ms,graph_p99_ms,peak_mem_mb,device"

    /// The file for `rows`, after a `# comment` line; latencies to 0.1 µs, memory to 1 MB.
    public static func render(_ rows: [Row], comment: String) -> String {
        func clean(_ text: String) -> String { text.replacingCommas() }
        var text = "# \(clean(comment).split(separator: "\n").joined(separator: " "))\n\(header)\n"
        for row in rows {
            let fields = [clean(row.model), String(row.input), String(row.batch), decimal(row.eagerMedianMs),
                          decimal(row.graphMedianMs), decimal(row.graphP99Ms), String(Int(row.peakMemoryMB.rounded())),
                          clean(row.device)]
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }

    /// `value` with 4 decimals, without Foundation's String(format:) (the core does not import Foundation).
    static func decimal(_ value: Double) -> String {
        let scaled = (value * 10_000).rounded()
        guard scaled.isFinite, abs(scaled) < 1e15 else { return "\(value)" }
        let whole = Int64(scaled)
        let sign = whole < 0 ? "-" : ""
        let magnitude = whole.magnitude
        let fraction = String(magnitude % 10_000)
        return "\(sign)\(magnitude / 10_000).\(String(repeating: "0", count: 4 - fraction.count))\(fraction)"
    }

    public static func parse(text: String, source: String, column: ProfileColumn = .graphP99) throws -> ProfileTable {
        var lines: [(number: Int, text: Substring)] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            lines.append((index + 1, line))
        }
        guard let headerLine = lines.first else { throw ProfileError.empty(source: source) }
        let header = headerLine.text.split(separator: ",", omittingEmptySubsequences: false).map { String($0.trimmingSpaces) }
        func index(of name: String) -> Int? { header.firstIndex(of: name) }
        guard let modelIndex = index(of: "model") else {
            throw ProfileError.missingColumn(source: source, column: "model", header: header)
        }
        guard let batchIndex = index(of: "batch") else {
            throw ProfileError.missingColumn(source: source, column: "batch", header: header)
        }
        guard let latencyIndex = index(of: column.name) else {
            throw ProfileError.missingColumn(source: source, column: column.name, header: header)
        }
        let medianIndex = index(of: column.medianColumn)
        let p99Index = index(of: column.p99Column)
        let memoryIndex = index(of: "peak_mem_mb")
        let inputIndex = index(of: "input")
        let deviceIndex = index(of: "device")

        var pointsByModel: [String: [ProfilePoint]] = [:]
        var metaByModel: [String: (device: String?, input: Int?)] = [:]
        var order: [String] = []
        for (lineNumber, text) in lines.dropFirst() {
            let fields = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0.trimmingSpaces) }
            guard fields.count == header.count else {
                throw ProfileError.wrongFieldCount(source: source, line: lineNumber, expected: header.count, found: fields.count)
            }
            func parseNumber(_ i: Int) throws -> Double {
                guard let value = Double(fields[i]), value.isFinite else {
                    throw ProfileError.badNumber(source: source, line: lineNumber, field: header[i], value: fields[i])
                }
                return value
            }
            func positive(_ i: Int) throws -> Double {
                let value = try parseNumber(i)
                guard value > 0 else {
                    throw ProfileError.outOfRange(source: source, line: lineNumber, field: header[i], value: fields[i], limit: "> 0")
                }
                return value
            }
            let model = fields[modelIndex]
            guard !model.isEmpty else {
                throw ProfileError.outOfRange(source: source, line: lineNumber, field: "model", value: "''", limit: "a non-empty name")
            }
            guard let batch = Int(fields[batchIndex]) else {
                throw ProfileError.badNumber(source: source, line: lineNumber, field: "batch", value: fields[batchIndex])
            }
            guard batch >= 1 else {
                throw ProfileError.outOfRange(source: source, line: lineNumber, field: "batch", value: fields[batchIndex], limit: ">= 1")
            }
            let point = ProfilePoint(
                batch: batch,
                planningLatencyMs: try positive(latencyIndex),
                medianLatencyMs: try medianIndex.map(positive),
                p99LatencyMs: try p99Index.map(positive),
                memoryMB: try memoryIndex.map(parseNumber) ?? 0
            )
            if point.memoryMB < 0, let memoryIndex {
                throw ProfileError.outOfRange(source: source, line: lineNumber, field: header[memoryIndex], value: fields[memoryIndex], limit: ">= 0")
            }
            if pointsByModel[model] == nil { order.append(model) }
            if pointsByModel[model, default: []].contains(where: { $0.batch == batch }) {
                throw ProfileError.duplicateBatch(source: source, line: lineNumber, model: model, batch: batch)
            }
            pointsByModel[model, default: []].append(point)
            if metaByModel[model] == nil {
                let device = deviceIndex.map { fields[$0] }.flatMap { $0.isEmpty ? nil : $0 }
                metaByModel[model] = (device, inputIndex.flatMap { Int(fields[$0]) })
            }
        }
        guard !order.isEmpty else { throw ProfileError.empty(source: source) }
        let profiles = try order.map { model in
            try ModelProfile(model: model, device: metaByModel[model]?.device, inputSize: metaByModel[model]?.input,
                             points: pointsByModel[model]!, source: source)
        }
        return ProfileTable(source: source, column: column, profiles: profiles)
    }
}

extension StringProtocol {
    func replacingCommas() -> String { String(map { $0 == "," ? ";" : $0 }) }

    /// Foundation-free trim of spaces and tabs; the core does not import Foundation.
    var trimmingSpaces: SubSequence {
        var start = startIndex, end = endIndex
        while start < end, self[start] == " " || self[start] == "\t" { start = index(after: start) }
        while end > start, self[index(before: end)] == " " || self[index(before: end)] == "\t" { end = index(before: end) }
        return self[start..<end]
    }
}
