import Foundation
import NexusCore
import NexusProtocol
import NexusRuntime

/// Turns an HTTP inference request (a JSON header, then the binary tensors of Triton's binary tensor data
/// extension) into the protocol's `Inference_ModelInferRequest`, which `InferenceCore` checks as it checks
/// gRPC's. Every size here comes from the client: each is computed with overflow checks, and every client
/// string in an error is cut to a bounded length (`ClientText`).
enum HTTPInferRequest {
    /// Header naming the JSON part's length when binary tensors follow it.
    static let headerLengthField = "Inference-Header-Content-Length"

    /// The request, and which outputs the client wants as binary data (`binary_data` per output, else the
    /// request's `binary_data_output`).
    struct Decoded {
        var request: Inference_ModelInferRequest
        var binaryOutputs: Set<String>
        var binaryByDefault: Bool
    }

    static func decode(body: Data, headerLength: String?, model: String, version: String) throws(InferenceError) -> Decoded {
        let jsonLength = try self.jsonLength(headerLength, bodyBytes: body.count)
        let header: HTTPInferBody
        do {
            header = try JSONDecoder().decode(HTTPInferBody.self, from: body.prefix(jsonLength))
        } catch {
            throw .invalidArgument("request JSON: \(describe(error))")
        }
        var request = Inference_ModelInferRequest.with {
            $0.modelName = model
            $0.modelVersion = version
            $0.id = header.id ?? ""
        }
        for (key, value) in header.parameters ?? [:] where key != "binary_data_output" {
            request.parameters[key] = parameter(value)
        }
        var offset = jsonLength
        for (index, input) in header.inputs.enumerated() {
            request.inputs.append(try tensor(input, index: index))
            guard let size = input.parameters?["binary_data_size"] else { continue }
            let field = "inputs[\(index)].parameters.binary_data_size"
            guard let bytes = size.int, bytes >= 0 else { throw .invalidArgument("\(field): expected an integer at least 0") }
            let (end, overflow) = offset.addingReportingOverflow(Int(clamping: bytes))
            guard !overflow, end <= body.count else {
                throw .invalidArgument("\(field) \(bytes): only \(body.count - offset) bytes of binary data are left in the body")
            }
            guard request.rawInputContents.count == index else {
                throw .invalidArgument("\(field): binary data for some inputs but not for those before; send all inputs binary or none")
            }
            request.rawInputContents.append(body.subdata(in: body.startIndex + offset ..< body.startIndex + end))
            offset = end
        }
        guard offset == body.count else {
            throw .invalidArgument("request body: \(body.count - offset) bytes after the JSON and the binary inputs that no input's binary_data_size claims")
        }
        let outputs = header.outputs ?? []
        request.outputs = outputs.map { output in .with { $0.name = output.name } }
        let binaryByDefault = header.parameters?["binary_data_output"]?.bool ?? false
        let binary = outputs.filter { $0.parameters?["binary_data"]?.bool ?? binaryByDefault }.map(\.name)
        return Decoded(request: request, binaryOutputs: Set(binary), binaryByDefault: binaryByDefault)
    }

    /// The JSON part's length: the header's value, in 0...body length, or the whole body.
    static func jsonLength(_ header: String?, bodyBytes: Int) throws(InferenceError) -> Int {
        guard let header else { return bodyBytes }
        guard let length = Int(header), (0...bodyBytes).contains(length) else {
            throw .invalidArgument("\(headerLengthField) '\(ClientText.quote(header))': expected an integer in 0...\(bodyBytes) (the body's length)")
        }
        return length
    }

    /// One input's metadata and its JSON data, as the protocol's typed contents.
    static func tensor(_ input: HTTPInferBody.Input, index: Int) throws(InferenceError) -> Inference_ModelInferRequest.InferInputTensor {
        var tensor = Inference_ModelInferRequest.InferInputTensor.with {
            $0.name = input.name
            $0.datatype = input.datatype
            $0.shape = input.shape
        }
        let field = "inputs[\(index)] ('\(ClientText.quote(input.name))').data"
        switch (input.data, input.datatype) {
        case (nil, _): break
        case let (.numbers(values)?, "FP32"):
            tensor.contents.fp32Contents = values.map { Float($0) }
        case let (.numbers(values)?, "UINT8"):
            guard values.allSatisfy({ $0 >= 0 && $0 <= 255 && $0.rounded() == $0 }) else {
                throw .invalidArgument("\(field): UINT8 values must be integers in 0...255")
            }
            tensor.contents.uintContents = values.map { UInt32($0) }
        case let (.strings(values)?, "BYTES"):
            tensor.contents.bytesContents = values.map { Data($0.utf8) }
        case (_, "FP32"), (_, "UINT8"), (_, "BYTES"):
            throw .invalidArgument("\(field): \(input.datatype) data must be \(input.datatype == "BYTES" ? "strings" : "numbers")")
        case (_, "FP16"):
            throw .invalidArgument("\(field): FP16 has no JSON form; send it as binary data (binary_data_size)")
        default: break   // InferenceCore names the unsupported datatype, as it does for gRPC.
        }
        return tensor
    }

    static func parameter(_ value: JSONScalar) -> Inference_InferParameter {
        .with {
            switch value {
            case let .bool(bool): $0.boolParam = bool
            case let .int(int): $0.int64Param = int
            case let .double(double): $0.doubleParam = double
            case let .string(string): $0.stringParam = string
            }
        }
    }

    /// A decoding error as the field's path and what was wrong, cut to a bounded length.
    static func describe(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
        }
        switch error as? DecodingError {
        case let .keyNotFound(key, context)?:
            return "\(path(context.codingPath + [key])): missing"
        case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?:
            return "\(ClientText.quote(path(context.codingPath))): \(ClientText.quote(context.debugDescription))"
        case let .dataCorrupted(context)?:
            let at = path(context.codingPath)
            return "\(at.isEmpty ? "" : "\(ClientText.quote(at)): ")not valid JSON (\(ClientText.quote(context.debugDescription)))"
        default:
            return ClientText.quote("\(error)")
        }
    }
}
