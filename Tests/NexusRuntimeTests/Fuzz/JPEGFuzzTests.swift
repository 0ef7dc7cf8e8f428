import Foundation
import NexusCore
@testable import NexusRuntime
import NexusTestSupport
import XCTest

/// Seeded fuzzing of JPEG decoding and the preprocess behind it (`InputDecoder.decode`), as a backend runs it
/// on a client's bytes: mutated JPEGs (flipped bits, cut, spliced, headers claiming huge sides) and random
/// frames never trap; a decode that succeeds fills the whole model input with finite values; a failure is
/// INVALID_ARGUMENT naming the input.
final class JPEGFuzzTests: XCTestCase {
    let spec = ModelSpec(name: "fuzz", directory: "", filePath: "", input: TensorSpec(name: "input", dtype: .fp32, shape: [3, 8, 8]),
                         maxBatch: 1, outputs: [TensorSpec(name: "logits", dtype: .fp32, shape: [10])],
                         preprocess: PreprocessSpec(height: 8, width: 8, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]))

    func testMutatedJPEGsAndFramesDecodeOrNameTheInput() throws {
        guard case .success = TurboJPEG.shared else { throw XCTSkip("libturbojpeg is not installed") }
        let budget = FuzzBudget.fromEnvironment(defaultIterations: 600, weight: 0.1)
        var random = SeededGenerator(seed: budget.seed)
        var decoded = 0
        var output = [Float](repeating: .nan, count: 3 * 8 * 8)
        for iteration in 0..<budget.iterations {
            let input = Int.random(in: 0..<4, using: &random) == 0 ? Self.randomFrame(using: &random)
                                                                    : .jpeg(Self.mutatedJPEG(using: &random))
            for index in output.indices { output[index] = .nan }
            do {
                try output.withUnsafeMutableBufferPointer { try InputDecoder.decode(input, for: spec, into: $0) }
                decoded += 1
                guard output.allSatisfy(\.isFinite) else {
                    return XCTFail("seed \(budget.seed), input \(iteration): decoded, but the model input is not all finite")
                }
            } catch {
                guard case let .invalidArgument(message) = error as? InferenceError, message.contains("input"),
                      message.utf8.count <= 1024 else {
                    return XCTFail("seed \(budget.seed), input \(iteration): \(error)")
                }
            }
        }
        FuzzBudget.report(target: "jpeg", count: budget.iterations)
        XCTAssertGreaterThan(decoded, 0, "no input decoded: the mutations test only the refusal path")
    }

    static func mutatedJPEG(using random: inout SeededGenerator) -> [UInt8] {
        var bytes = SampleJPEG.bytes
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            switch Int.random(in: 0..<6, using: &random) {
            case 0:   // flip a bit
                let index = Int.random(in: 0..<bytes.count, using: &random)
                bytes[index] ^= 1 << UInt8.random(in: 0...7, using: &random)
            case 1:   // cut the tail
                bytes.removeLast(Int.random(in: 0..<bytes.count, using: &random))
            case 2:   // splice random bytes in
                let index = Int.random(in: 0...bytes.count, using: &random)
                bytes.insert(contentsOf: random.bytes(count: Int.random(in: 1...32, using: &random)), at: index)
            case 3:   // a marker byte where data was
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = [0xFF, 0x00, 0xD9, 0xC0].randomElement(using: &random)!
            case 4:   // the frame header claims other sides (huge, zero, one)
                if let offset = SampleJPEG.frameHeaderOffset, offset + 3 < bytes.count {
                    for i in 0..<4 { bytes[offset + i] = [0x00, 0x01, 0x20, 0xFF].randomElement(using: &random)! }
                }
            default:  // duplicate a chunk
                let start = Int.random(in: 0..<bytes.count, using: &random)
                let end = min(bytes.count, start + Int.random(in: 1...64, using: &random))
                bytes.insert(contentsOf: bytes[start..<end], at: end)
            }
            if bytes.isEmpty { bytes = [0xFF] }
        }
        return bytes
    }

    /// A UINT8 frame of random sides, its byte count sometimes off by one.
    static func randomFrame(using random: inout SeededGenerator) -> InferenceInput {
        let height = [1, 2, 7, 8, 64, 8193].randomElement(using: &random)!, width = Int.random(in: 1...40, using: &random)
        let channels = [3, 3, 3, 1, 4].randomElement(using: &random)!
        let count = max(0, height * width * channels + [0, 0, 0, -1, 1].randomElement(using: &random)!)
        // Random pixels where they are cheap to draw; a large frame's pixels do not change what is checked.
        let bytes = count <= 4_096 ? random.bytes(count: count) : [UInt8](repeating: 7, count: count)
        return .tensor(dtype: .uint8, shape: [height, width, channels], bytes: bytes)
    }
}
