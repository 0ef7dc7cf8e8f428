import Glibc
import NexusCore
import Synchronization

/// A SIMULATED device (DESIGN.md §3.7): each batch takes as long on the real clock (to within a few µs) as
/// the simulator's GPUs take for it in virtual time (`LatencyCurve.simulatedDurationNs`: uniform between the
/// profile's median and p99 of the batch that runs) and returns zeros of the declared output shapes. For CPU
/// tests, the engine-overhead benchmark, `nexus serve` without libtorch and `nexus serve --workload`; never a
/// stand-in for real models, and it says so in `deviceDescription`.
public final class SimulatedRuntime: ModelRuntime, @unchecked Sendable {
    /// Per model; a prefix-family head takes 0 (profiles have no heads).
    public let profiles: [String: ModelProfile]
    public let label: String
    let random: Mutex<RandomSource>

    /// `seed`: batch times are drawn from a seeded stream, so a run can be repeated.
    public init(profiles: [String: ModelProfile], label: String, seed: UInt64 = 1) {
        self.profiles = profiles
        self.label = label
        random = Mutex(RandomSource(seed: seed, stream: 1_000_002))
    }

    public var isSimulated: Bool { true }
    public var deviceDescription: String { "SIMULATED device (\(label)): latencies from profiles, outputs are zeros" }

    public func load(_ spec: ModelSpec, inputShape: [Int]) throws -> any LoadedModel {
        if spec.isHead { return SimulatedModel(spec: spec, inputShape: inputShape, curve: nil, unit: { 0 }) }
        guard let profile = profiles[spec.name] else {
            throw RuntimeError.modelLoad(path: spec.filePath,
                                         message: "the simulated runtime needs a profile of '\(spec.name)' (\(label)) and has none")
        }
        return SimulatedModel(spec: spec, inputShape: inputShape, curve: LatencyCurve(profile: profile),
                              unit: { [self] in random.withLock { $0.unit() } })
    }

    public func memoryBytes(peak: Bool) -> Int64? { nil }
    public func resetPeakMemory() {}
}

final class SimulatedModel: LoadedModel, @unchecked Sendable {
    let spec: ModelSpec
    let inputElements: Int
    let curve: LatencyCurve?
    let unit: @Sendable () -> Double

    init(spec: ModelSpec, inputShape: [Int], curve: LatencyCurve?, unit: @escaping @Sendable () -> Double) {
        self.spec = spec
        self.inputElements = inputShape.reduce(1, *)
        self.curve = curve
        self.unit = unit
    }

    func run(_ input: UnsafeBufferPointer<Float>, batch: Int) throws -> any ModelOutputs {
        guard batch > 0, input.count == batch * inputElements else {
            throw RuntimeError.invalidArgument("\(spec.name): \(input.count) floats for a batch of \(batch) samples of \(inputElements)")
        }
        try pause(batch: batch)
        return SimulatedOutputs(rows: batch, shapes: spec.outputs.map(\.shape))
    }

    func run(on source: any ModelOutputs, rows: Range<Int>) throws -> any ModelOutputs {
        try pause(batch: rows.count)
        return SimulatedOutputs(rows: rows.count, shapes: spec.outputs.map(\.shape))
    }

    func prepare(batches: [Int]) throws {}

    private func pause(batch: Int) throws {
        guard let curve else { return }
        guard batch <= curve.maxBatch else {
            throw RuntimeError.execution(model: spec.name, message: "batch \(batch) is beyond the profile's largest batch \(curve.maxBatch)")
        }
        let durationNs = curve.simulatedDurationNs(batch: batch, unit: unit())
        if durationNs > 0 { SimulatedModel.wait(nanoseconds: durationNs) }
    }

    /// Linux wakes a sleeping thread up to its timer slack (50 µs) late, which is more than a small model's
    /// whole batch: sleep all but the last `spinNs`, then spin on the clock to the deadline.
    static let spinNs: Int64 = 60_000

    static func wait(nanoseconds durationNs: Int64) {
        let clock = MonotonicClock()
        let deadlineNs = clock.nowNs() + durationNs
        let sleepNs = durationNs - spinNs
        if sleepNs > 0 {
            var duration = timespec(tv_sec: Int(sleepNs / 1_000_000_000), tv_nsec: Int(sleepNs % 1_000_000_000))
            var remaining = timespec()
            while nanosleep(&duration, &remaining) != 0, errno == EINTR { duration = remaining }
        }
        while clock.nowNs() < deadlineNs {}
    }
}

final class SimulatedOutputs: ModelOutputs {
    let rows: Int
    let shapes: [[Int]]

    init(rows: Int, shapes: [[Int]]) {
        self.rows = rows
        self.shapes = shapes
    }

    var count: Int { shapes.count }
    func shape(at index: Int) -> [Int] { [rows] + shapes[index] }
    func floats(at index: Int) throws -> [Float] { [Float](repeating: 0, count: shape(at: index).reduce(1, *)) }
}
