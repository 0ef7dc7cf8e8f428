import Foundation
import NexusProtocol
import NexusTestSupport

/// One generated request and what the oracle knows of it. The generator starts from a request that is valid
/// by construction and applies at most one mutation that is invalid by construction, so the verdict is known
/// without asking the code under test; `garbage` requests are random throughout, and only checked for
/// properties every answer must have.
struct RequestFuzzCase {
    enum Verdict: Equatable {
        case valid
        /// The error must contain at least one of these field names.
        case invalid(fields: [String])
        case garbage
    }

    var request: Inference_ModelInferRequest
    var verdict: Verdict
    /// Which form and mutation made it, for the failure message.
    var label: String
}

/// The valid forms a request for a model taking FP32 [3, 4, 4] (with or without a preprocess) may take.
enum ValidForm: CaseIterable {
    case rawTensor, rawTensorBatched, typedTensor, frame, frameBatched, typedFrame, bytesRaw, bytesContents

    var needsPreprocess: Bool { ![.rawTensor, .rawTensorBatched, .typedTensor].contains(self) }
    var isBytes: Bool { self == .bytesRaw || self == .bytesContents }
    var hasRaw: Bool { [.rawTensor, .rawTensorBatched, .frame, .frameBatched, .bytesRaw].contains(self) }
}

extension Inference_ModelInferRequest {
    /// The request's one input, which every mutation edits.
    var input0: Inference_ModelInferRequest.InferInputTensor {
        get { inputs[0] }
        set { inputs[0] = newValue }
    }
}

enum RequestFuzzGenerator {
    static func validRequest(_ form: ValidForm, using random: inout SeededGenerator) -> Inference_ModelInferRequest {
        var tensor = Inference_ModelInferRequest.InferInputTensor()
        tensor.name = "input"
        var raw: Data?
        let height = Int64.random(in: 1...16, using: &random), width = Int64.random(in: 1...16, using: &random)
        switch form {
        case .rawTensor, .rawTensorBatched:
            tensor.datatype = "FP32"
            tensor.shape = form == .rawTensor ? [3, 4, 4] : [1, 3, 4, 4]
            raw = Data(random.bytes(count: 192))
        case .typedTensor:
            tensor.datatype = "FP32"
            tensor.shape = Bool.random(using: &random) ? [3, 4, 4] : [1, 3, 4, 4]
            tensor.contents.fp32Contents = (0..<48).map { _ in Float.random(in: -1...1, using: &random) }
        case .frame, .frameBatched:
            tensor.datatype = "UINT8"
            tensor.shape = form == .frame ? [height, width, 3] : [1, height, width, 3]
            raw = Data(random.bytes(count: Int(height * width * 3)))
        case .typedFrame:
            tensor.datatype = "UINT8"
            tensor.shape = [height, width, 3]
            tensor.contents.uintContents = (0..<(height * width * 3)).map { _ in UInt32.random(in: 0...255, using: &random) }
        case .bytesRaw, .bytesContents:
            tensor.datatype = "BYTES"
            tensor.shape = Bool.random(using: &random) ? [1] : [1, 1]
            let payload = random.bytes(count: Int.random(in: 0...64, using: &random))
            if form == .bytesRaw {
                let length = UInt32(payload.count)
                raw = Data((0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + payload)
            } else {
                tensor.contents.bytesContents = [Data(payload)]
            }
        }
        return .with {
            $0.modelName = random.oddString()
            $0.id = random.oddString()
            $0.inputs = [tensor]
            if let raw { $0.rawInputContents = [raw] }
        }
    }
}
