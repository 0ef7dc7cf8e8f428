import Foundation
import NexusCore
import NexusProtocol
import NexusRuntime

/// Turns an Open Inference Protocol request into the root call's input, or an INVALID_ARGUMENT naming the
/// field and the limit (DESIGN.md §4). Requests carry one sample: `max_batch_size` is 1 in ModelConfig.
enum OIPRequest {
    static let maxBatch = 1

    /// `checkSpec`: `root.checkSpec`, which a caller serving many requests builds once.
    static func input(of request: Inference_ModelInferRequest, root: ModelInterface, checkSpec: ModelSpec? = nil) throws(InferenceError) -> CallInput {
        guard request.inputs.count == 1 else {
            throw .invalidArgument("inputs: expected 1 input ('\(root.input.name)'), got \(request.inputs.count)")
        }
        let tensor = request.inputs[0]
        let field = "inputs[0] ('\(tensor.name)')"
        guard tensor.name == root.input.name else {
            throw .invalidArgument("inputs[0].name: '\(tensor.name)' is not an input of this application (it takes '\(root.input.name)')")
        }
        guard request.rawInputContents.count <= 1 else {
            throw .invalidArgument("raw_input_contents: expected at most 1 entry (one per input), got \(request.rawInputContents.count)")
        }
        let shape = tensor.shape.map(Int.init)
        if shape.count == root.input.shape.count + 1, let batch = shape.first, batch > maxBatch {
            throw .invalidArgument("\(field).shape \(shape): batch \(batch) exceeds the limit of \(maxBatch) sample per request (max_batch_size); send one request per sample")
        }
        let raw = request.rawInputContents.first
        switch tensor.datatype {
        case "BYTES":
            guard root.hasPreprocess else {
                throw .invalidArgument("\(field).datatype BYTES (an encoded image) is not accepted: model '\(root.name)' takes \(root.input.dtype.rawValue) \(root.input.shape) and has no preprocess")
            }
            guard shape.reduce(1, *) == 1 else {
                throw .invalidArgument("\(field).shape \(shape): BYTES input must hold exactly 1 encoded image")
            }
            let element: Data
            if let raw {
                // Triton's BYTES serialisation: a 4-byte little-endian length, then the bytes.
                guard raw.count >= 4 else { throw .invalidArgument("raw_input_contents[0]: \(raw.count) bytes, too short for a BYTES element's 4-byte length") }
                let length = raw.prefix(4).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
                guard length == raw.count - 4 else {
                    throw .invalidArgument("raw_input_contents[0]: the BYTES element says \(length) bytes but \(raw.count - 4) follow")
                }
                element = raw.dropFirst(4)
            } else if tensor.contents.bytesContents.count == 1 {
                element = tensor.contents.bytesContents[0]
            } else {
                throw .invalidArgument("\(field).contents.bytes_contents: expected 1 encoded image, got \(tensor.contents.bytesContents.count)")
            }
            return .jpeg(Data(element))
        case "FP32", "FP16", "UINT8":
            let dtype = TensorDType(rawValue: tensor.datatype)!
            let data: Data
            if let raw {
                data = raw
            } else if dtype == .fp32, !tensor.contents.fp32Contents.isEmpty {
                data = tensor.contents.fp32Contents.withUnsafeBytes { Data($0) }
            } else if dtype == .uint8, !tensor.contents.uintContents.isEmpty {
                guard tensor.contents.uintContents.allSatisfy({ $0 <= 255 }) else {
                    throw .invalidArgument("\(field).contents.uint_contents: UINT8 values must be at most 255")
                }
                data = Data(tensor.contents.uintContents.map { UInt8($0) })
            } else {
                throw .invalidArgument("\(field): no data (neither raw_input_contents nor typed contents)")
            }
            do {
                _ = try InputCheck.check(dtype: dtype, rawShape: shape, byteCount: data.count, for: checkSpec ?? root.checkSpec)
            } catch {
                throw .invalidArgument("\(field): \(error.message)")
            }
            return .tensor(dtype: dtype, shape: shape, data: data)
        default:
            throw .invalidArgument("\(field).datatype '\(tensor.datatype)' is not supported (FP32, FP16, UINT8, or BYTES for an encoded image); model '\(root.name)' takes \(root.input.dtype.rawValue)")
        }
    }
}
