import Foundation
import NexusCore
import NexusProtocol
import NexusRuntime

/// Turns an Open Inference Protocol request into the root call's input, or an INVALID_ARGUMENT naming the
/// field and the limit (DESIGN.md §4). Requests carry one sample: `max_batch_size` is 1 in ModelConfig.
/// Every size comes from the client, so each is computed with overflow checks (`ClientShape`), and every
/// string the client sent is quoted cut to a bounded length (`ClientText`).
enum OIPRequest {
    static let maxBatch = 1

    /// `checkSpec`: `root.checkSpec`, which a caller serving many requests builds once.
    static func input(of request: Inference_ModelInferRequest, root: ModelInterface, checkSpec: ModelSpec? = nil) throws(InferenceError) -> CallInput {
        guard request.inputs.count == 1 else {
            throw .invalidArgument("inputs: expected 1 input ('\(root.input.name)'), got \(request.inputs.count)")
        }
        let tensor = request.inputs[0]
        let field = "inputs[0] ('\(ClientText.quote(tensor.name))')"
        guard tensor.name == root.input.name else {
            throw .invalidArgument("inputs[0].name: '\(ClientText.quote(tensor.name))' is not an input of this application (it takes '\(root.input.name)')")
        }
        guard request.rawInputContents.count <= 1 else {
            throw .invalidArgument("raw_input_contents: expected at most 1 entry (one per input), got \(request.rawInputContents.count)")
        }
        let elements = try elementCount(tensor.shape, field: field)
        let shape = tensor.shape.map { Int($0) }   // each dimension is in 1...Int.max (checked above)
        if shape.count == root.input.shape.count + 1, let batch = shape.first, batch > maxBatch {
            throw .invalidArgument("\(field).shape \(ClientShape.describe(shape)): batch \(batch) exceeds the limit of \(maxBatch) sample per request (max_batch_size); send one request per sample")
        }
        let raw = request.rawInputContents.first
        if raw != nil, tensor.contents != Inference_InferTensorContents() {
            throw .invalidArgument("\(field).contents: data given twice, in contents and in raw_input_contents; send one")
        }
        switch tensor.datatype {
        case "BYTES":
            guard root.hasPreprocess else {
                throw .invalidArgument("\(field).datatype BYTES (an encoded image) is not accepted: model '\(root.name)' takes \(root.input.dtype.rawValue) \(root.input.shape) and has no preprocess")
            }
            guard elements == 1 else {
                throw .invalidArgument("\(field).shape \(ClientShape.describe(shape)): BYTES input must hold exactly 1 encoded image, the shape holds \(elements)")
            }
            return .jpeg(try bytesElement(raw: raw, contents: tensor.contents, field: field))
        case "FP32", "FP16", "UINT8":
            let dtype = TensorDType(rawValue: tensor.datatype)!
            let data = try tensorData(dtype: dtype, raw: raw, contents: tensor.contents, field: field)
            do {
                _ = try InputCheck.check(dtype: dtype, rawShape: shape, byteCount: data.count, for: checkSpec ?? root.checkSpec)
            } catch {
                throw .invalidArgument("\(field): \(error.message)")
            }
            return .tensor(dtype: dtype, shape: shape, data: data)
        default:
            throw .invalidArgument("\(field).datatype '\(ClientText.quote(tensor.datatype))' is not supported (FP32, FP16, UINT8, or BYTES for an encoded image); model '\(root.name)' takes \(root.input.dtype.rawValue)")
        }
    }

    /// The shape's element count: every dimension at least 1, the product at most `Int.max`.
    static func elementCount(_ shape: [Int64], field: String) throws(InferenceError) -> Int {
        switch ClientShape.byteCount(shape) {
        case let .success(count): return count
        case let .failure(.dimensionBelowOne(index, value)):
            throw .invalidArgument("\(field).shape \(ClientShape.describe(shape)): dimension \(index) is \(value); every dimension must be at least 1")
        case .failure(.overflow):
            throw .invalidArgument("\(field).shape \(ClientShape.describe(shape)): the element count exceeds \(Int.max), larger than any request can be")
        }
    }

    /// One BYTES element: from raw_input_contents in Triton's serialisation (a 4-byte little-endian length,
    /// then the bytes), or from contents.bytes_contents.
    static func bytesElement(raw: Data?, contents: Inference_InferTensorContents, field: String) throws(InferenceError) -> Data {
        if let raw {
            guard raw.count >= 4 else {
                throw .invalidArgument("raw_input_contents[0]: \(raw.count) bytes, too short for a BYTES element's 4-byte length")
            }
            let length = raw.prefix(4).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            guard length == raw.count - 4 else {
                throw .invalidArgument("raw_input_contents[0]: the BYTES element says \(length) bytes but \(raw.count - 4) follow")
            }
            return Data(raw.dropFirst(4))
        }
        guard contents.bytesContents.count == 1 else {
            throw .invalidArgument("\(field).contents.bytes_contents: expected 1 encoded image, got \(contents.bytesContents.count)")
        }
        return contents.bytesContents[0]
    }

    /// A numeric tensor's bytes: raw_input_contents, or the typed contents of its datatype.
    static func tensorData(dtype: TensorDType, raw: Data?, contents: Inference_InferTensorContents, field: String) throws(InferenceError) -> Data {
        if let raw { return raw }
        if dtype == .fp32, !contents.fp32Contents.isEmpty {
            return contents.fp32Contents.withUnsafeBytes { Data($0) }
        }
        if dtype == .uint8, !contents.uintContents.isEmpty {
            guard contents.uintContents.allSatisfy({ $0 <= 255 }) else {
                throw .invalidArgument("\(field).contents.uint_contents: UINT8 values must be at most 255")
            }
            return Data(contents.uintContents.map { UInt8($0) })
        }
        throw .invalidArgument("\(field): no data (neither raw_input_contents nor \(dtype == .fp16 ? "raw bytes, which FP16 needs" : "typed contents of its datatype"))")
    }
}
