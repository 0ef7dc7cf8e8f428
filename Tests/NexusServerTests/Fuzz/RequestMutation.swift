import Foundation
import NexusProtocol
import NexusTestSupport

/// Mutations each of which makes a valid request invalid, whatever the valid form (`applies` says where it
/// means something), with the field names its error must mention.
enum RequestMutation: CaseIterable {
    case duplicateInput, noInputs, renameInput, extraRawEntry, dimensionBelowOne, overflowingShape, batchOverLimit
    case unsupportedDatatype, wrongByteCount, dataGivenTwice, numericDatatypeSwap, uintOver255, bytesForPlainModel
    case bytesManyElements, reshapeTensor, emptyShape, frameTooLarge, bytesRawTooShort, bytesContentsCount, noData

    func applies(to form: ValidForm, preprocess: Bool) -> Bool {
        switch self {
        case .duplicateInput, .noInputs, .renameInput, .extraRawEntry, .dimensionBelowOne, .overflowingShape,
             .unsupportedDatatype:
            return true
        case .batchOverLimit: return form == .rawTensorBatched || form == .frameBatched
        case .wrongByteCount: return form.hasRaw || form == .typedTensor
        case .dataGivenTwice: return form.hasRaw
        case .numericDatatypeSwap: return !form.isBytes && form.hasRaw
        case .uintOver255: return form == .typedFrame
        case .bytesForPlainModel: return form.isBytes && !preprocess
        case .bytesManyElements: return form.isBytes
        case .reshapeTensor, .emptyShape: return form == .rawTensor || form == .rawTensorBatched
        case .frameTooLarge: return form == .frame
        case .bytesRawTooShort: return form == .bytesRaw
        case .bytesContentsCount: return form == .bytesContents
        case .noData: return !form.isBytes
        }
    }

    /// Applies the mutation; returns the field names its error must mention (at least one of them).
    func apply(to request: inout Inference_ModelInferRequest, using random: inout SeededGenerator) -> [String] {
        switch self {
        case .duplicateInput:
            request.inputs.append(request.input0)
            return ["inputs"]
        case .noInputs:
            request.inputs = []
            return ["inputs"]
        case .renameInput:
            var name = random.oddString()
            if name == "input" { name = "input2" }
            request.input0.name = name
            return ["inputs[0].name"]
        case .extraRawEntry:
            request.rawInputContents += [Data(random.bytes(count: 8)), Data()]
            return ["raw_input_contents"]
        case .dimensionBelowOne:
            let index = Int.random(in: 0..<max(1, request.input0.shape.count), using: &random)
            let bad = [0, -1, Int64.min, -Int64.random(in: 1...Int64.max, using: &random)].randomElement(using: &random)!
            if request.input0.shape.isEmpty { request.input0.shape = [bad] } else { request.input0.shape[index] = bad }
            return ["shape"]
        case .overflowingShape:
            request.input0.shape = [[4_294_967_296, 4_294_967_296], [Int64.max, 2], [3_037_000_500, 3_037_000_500, 3],
                                    [Int64.max, Int64.max, Int64.max]].randomElement(using: &random)!
            return ["shape"]
        case .batchOverLimit:
            request.input0.shape[0] = Int64.random(in: 2...1_000_000_000_000, using: &random)
            return ["shape", "batch"]
        case .unsupportedDatatype:
            var name = ["INT64", "FP64", "BOOL", "fp32", "", "BF16", random.oddString()].randomElement(using: &random)!
            if ["FP32", "FP16", "UINT8", "BYTES"].contains(name) { name = "INT8" }
            request.input0.datatype = name
            return ["datatype"]
        case .wrongByteCount:
            return wrongByteCount(&request, using: &random)
        case .dataGivenTwice:
            request.input0.contents.fp32Contents = [1]
            return ["contents"]
        case .numericDatatypeSwap:
            let others = ["FP32", "FP16", "UINT8"].filter { $0 != request.input0.datatype }
            request.input0.datatype = others.randomElement(using: &random)!
            return ["input 'input'", "datatype"]
        case .uintOver255:
            let index = Int.random(in: 0..<request.input0.contents.uintContents.count, using: &random)
            request.input0.contents.uintContents[index] = UInt32.random(in: 256...UInt32.max, using: &random)
            return ["uint_contents"]
        case .bytesForPlainModel:
            return ["datatype BYTES"]
        case .bytesManyElements:
            request.input0.shape = [[2], [1, 3], [0], [2, 2]].randomElement(using: &random)!
            return ["shape"]
        case .reshapeTensor:
            request.input0.shape = [[48], [3, 16], [4, 4, 3], [1, 48], [1, 1, 3, 4, 4], [3, 4, 4, 1], [4, 3, 4]]
                .randomElement(using: &random)!
            return ["shape"]
        case .emptyShape:
            request.input0.shape = []
            return ["shape"]
        case .frameTooLarge:
            request.input0.shape = [8193, 1, 3]
            request.rawInputContents = [Data(count: 8193 * 3)]
            return ["input 'input'"]
        case .bytesRawTooShort:
            request.rawInputContents = [Data(random.bytes(count: Int.random(in: 0...3, using: &random)))]
            return ["raw_input_contents"]
        case .bytesContentsCount:
            request.input0.contents.bytesContents = Bool.random(using: &random) ? [] : [Data([1]), Data([2])]
            return ["bytes_contents"]
        case .noData:
            request.rawInputContents = []
            request.input0.contents = Inference_InferTensorContents()
            return ["inputs[0]"]
        }
    }

    /// Raw bytes one off (or far off) what the shape needs; typed contents one value short or over.
    private func wrongByteCount(_ request: inout Inference_ModelInferRequest, using random: inout SeededGenerator) -> [String] {
        if request.rawInputContents.isEmpty {
            if Bool.random(using: &random) { request.input0.contents.fp32Contents.removeLast() } else { request.input0.contents.fp32Contents.append(0) }
            return ["input 'input'"]
        }
        var raw = request.rawInputContents[0]
        if raw.count > 0, Bool.random(using: &random) {
            raw.removeLast(Int.random(in: 1...raw.count, using: &random))
        } else {
            raw.append(contentsOf: random.bytes(count: Int.random(in: 1...64, using: &random)))
        }
        request.rawInputContents[0] = raw
        return request.input0.datatype == "BYTES" ? ["raw_input_contents"] : ["input 'input'"]
    }
}
