import CNexusTorch
import NexusCore

/// A TorchScript model loaded by `native/`; freed with the object.
final class TorchModel: LoadedModel, @unchecked Sendable {
    let library: TorchLibrary
    let handle: OpaquePointer
    let spec: ModelSpec
    let inputElements: Int

    init(library: TorchLibrary, handle: OpaquePointer, spec: ModelSpec, inputElements: Int) {
        self.library = library
        self.handle = handle
        self.spec = spec
        self.inputElements = inputElements
    }

    deinit { library.freeModel(handle) }

    var isHalf: Bool { library.isHalf(handle) != 0 }
    var usesGraphs: Bool { library.usesGraphs(handle) != 0 }

    func run(_ input: UnsafeBufferPointer<Float>, batch: Int) throws -> any ModelOutputs {
        guard batch > 0, input.count == batch * inputElements else {
            throw RuntimeError.invalidArgument("\(spec.name): \(input.count) floats for a batch of \(batch) samples of \(inputElements)")
        }
        let (outputs, message) = TorchLibrary.withErrorBuffer { error, capacity in
            library.run(handle, UnsafeRawPointer(input.baseAddress), Int32(NEXUS_DTYPE_FP32.rawValue), Int64(batch), error, capacity)
        }
        guard let outputs else { throw RuntimeError.execution(model: spec.name, message: message) }
        return TorchOutputs(library: library, handle: outputs, model: spec.name)
    }

    func run(on source: any ModelOutputs, rows: Range<Int>) throws -> any ModelOutputs {
        guard let source = source as? TorchOutputs else {
            throw RuntimeError.invalidArgument("\(spec.name): a head runs on the outputs of a torch prefix")
        }
        let (outputs, message) = TorchLibrary.withErrorBuffer { error, capacity in
            library.runOn(handle, source.handle, 0, Int64(rows.lowerBound), Int64(rows.count), error, capacity)
        }
        guard let outputs else { throw RuntimeError.execution(model: spec.name, message: message) }
        return TorchOutputs(library: library, handle: outputs, model: spec.name)
    }

    func prepare(batches: [Int]) throws {
        let sizes = batches.map(Int64.init)
        let (status, message) = TorchLibrary.withErrorBuffer { error, capacity in
            sizes.withUnsafeBufferPointer { library.prepare(handle, $0.baseAddress, Int32($0.count), error, capacity) }
        }
        if status != 0 { throw RuntimeError.execution(model: spec.name, message: message) }
    }
}

/// Outputs of one native run, freed with the object.
final class TorchOutputs: ModelOutputs, @unchecked Sendable {
    let library: TorchLibrary
    let handle: OpaquePointer
    let model: String

    init(library: TorchLibrary, handle: OpaquePointer, model: String) {
        self.library = library
        self.handle = handle
        self.model = model
    }

    deinit { library.freeOutputs(handle) }

    var count: Int { Int(library.outputsCount(handle)) }

    func shape(at index: Int) -> [Int] {
        var dims = [Int64](repeating: 0, count: 16)
        let ndim = dims.withUnsafeMutableBufferPointer { library.outputsShape(handle, Int32(index), $0.baseAddress, 16) }
        return ndim < 0 ? [] : dims.prefix(Int(min(ndim, 16))).map(Int.init)
    }

    func floats(at index: Int) throws -> [Float] {
        let total = shape(at: index).reduce(1, *)
        var values = [Float](repeating: 0, count: total)
        let (written, message) = TorchLibrary.withErrorBuffer { error, capacity in
            values.withUnsafeMutableBufferPointer { library.outputsCopy(handle, Int32(index), $0.baseAddress, Int64(total), error, capacity) }
        }
        guard let written, written == total else { throw RuntimeError.execution(model: model, message: message) }
        return values
    }
}
