import Foundation
import NexusProtocol
import NexusTestSupport

/// Requests random in every field the frontend reads, biased toward the edges (empty, one, negative,
/// 2^32, Int64.max) where size arithmetic breaks.
enum RandomRequest {
    static let edgeDimensions: [Int64] = [-1, 0, 1, 1, 1, 2, 3, 4, 4, 16, 4_294_967_296, Int64.max, Int64.min]

    static func garbage(using random: inout SeededGenerator) -> Inference_ModelInferRequest {
        .with {
            $0.modelName = random.oddString()
            $0.inputs = (0..<[0, 1, 1, 1, 1, 2, 3].randomElement(using: &random)!).map { _ in tensor(using: &random) }
            $0.rawInputContents = (0..<[0, 0, 1, 1, 1, 2].randomElement(using: &random)!).map { _ in
                Data(random.bytes(count: [0, 1, 3, 4, 48, 96, 192, 193, Int.random(in: 0...400, using: &random)]
                    .randomElement(using: &random)!))
            }
        }
    }

    static func tensor(using random: inout SeededGenerator) -> Inference_ModelInferRequest.InferInputTensor {
        .with {
            $0.name = Int.random(in: 0..<4, using: &random) == 0 ? random.oddString() : "input"
            $0.datatype = ["FP32", "FP16", "UINT8", "BYTES", "INT32", random.oddString()].randomElement(using: &random)!
            $0.shape = (0..<Int.random(in: 0...6, using: &random)).map { _ in
                Bool.random(using: &random) ? edgeDimensions.randomElement(using: &random)!
                                            : Int64.random(in: Int64.min...Int64.max, using: &random)
            }
            switch Int.random(in: 0..<6, using: &random) {
            case 0: $0.contents.fp32Contents = (0..<Int.random(in: 0...64, using: &random)).map { _ in Float.random(in: -9...9, using: &random) }
            case 1: $0.contents.uintContents = (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt32.random(in: 0...300, using: &random) }
            case 2: $0.contents.bytesContents = (0..<Int.random(in: 0...2, using: &random)).map { _ in Data(random.bytes(count: 8)) }
            case 3: $0.contents.int64Contents = [Int64.random(in: Int64.min...Int64.max, using: &random)]
            default: break
            }
        }
    }
}
