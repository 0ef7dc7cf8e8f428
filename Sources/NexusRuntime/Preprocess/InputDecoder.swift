import NexusCore

/// Checks a request's input against its model and writes the model input (fp32, one sample). Runs on the
/// executor's CPU worker pool, so decoding overlaps device execution (DESIGN.md §3.5).
public enum InputDecoder {
    public static func decode(_ input: InferenceInput, for spec: ModelSpec, into output: UnsafeMutableBufferPointer<Float>) throws(InferenceError) {
        switch input {
        case let .jpeg(bytes):
            guard let preprocess = spec.preprocess else {
                throw .invalidArgument("model '\(spec.name)' takes raw \(spec.input.dtype.rawValue) tensors of shape \(spec.input.shape), not JPEG (its model.yaml has no preprocess)")
            }
            let jpeg: TurboJPEG
            switch TurboJPEG.shared {
            case let .success(library): jpeg = library
            case let .failure(error): throw .unavailable(error.description)
            }
            let image: (pixels: [UInt8], height: Int, width: Int)
            do { image = try jpeg.decodeRGB(bytes) } catch { throw .invalidArgument("input '\(spec.input.name)': \(error)") }
            guard spec.input.shape[0] == 3 else {
                throw .invalidArgument("model '\(spec.name)' takes \(spec.input.shape[0]) channels; a JPEG decodes to 3")
            }
            image.pixels.withUnsafeBufferPointer {
                ImageNormalizer.normalize(pixels: $0, height: image.height, width: image.width, channels: 3, spec: preprocess, into: output)
            }
        case let .tensor(dtype, rawShape, bytes):
            let shape = rawShape.count > 1 && rawShape.first == 1 && rawShape.count != spec.input.shape.count ? Array(rawShape.dropFirst()) : rawShape
            if shape.contains(where: { $0 <= 0 }) {
                throw .invalidArgument("input '\(spec.input.name)' shape \(rawShape): every dimension must be at least 1")
            }
            // Overflow-checked: the shape comes from the client, and a product past Int.max must be an error, not a trap.
            let byteCount = shape.reduce(Optional(dtype.byteSize)) { product, size in
                product.flatMap { let (value, overflow) = $0.multipliedReportingOverflow(by: size); return overflow ? nil : value }
            }
            guard let byteCount else {
                throw .invalidArgument("input '\(spec.input.name)' shape \(rawShape) of \(dtype.rawValue) is larger than any request can be")
            }
            guard bytes.count == byteCount else {
                throw .invalidArgument("input '\(spec.input.name)' has \(bytes.count) bytes; shape \(rawShape) of \(dtype.rawValue) needs \(byteCount)")
            }
            if shape == spec.input.shape {
                guard dtype == spec.input.dtype else {
                    throw .invalidArgument("input '\(spec.input.name)' datatype \(dtype.rawValue) does not match model '\(spec.name)''s \(spec.input.dtype.rawValue)")
                }
                bytes.withUnsafeBytes { convert($0, dtype: dtype, into: output) }
                return
            }
            if let preprocess = spec.preprocess, dtype == .uint8, shape.count == 3, shape[2] == spec.input.shape[0] {
                guard shape[0] <= TurboJPEG.maxSide, shape[1] <= TurboJPEG.maxSide else {
                    throw .invalidArgument("input '\(spec.input.name)' frame \(shape[0])x\(shape[1]): each side must be at most \(TurboJPEG.maxSide)")
                }
                bytes.withUnsafeBufferPointer {
                    ImageNormalizer.normalize(pixels: $0, height: shape[0], width: shape[1], channels: shape[2], spec: preprocess, into: output)
                }
                return
            }
            var expected = "\(spec.input.shape) of \(spec.input.dtype.rawValue)"
            if spec.preprocess != nil { expected += ", or an image [height, width, \(spec.input.shape[0])] of UINT8" }
            throw .invalidArgument("input '\(spec.input.name)' shape \(rawShape) does not match model '\(spec.name)': expected \(expected)")
        }
    }

    static func convert(_ raw: UnsafeRawBufferPointer, dtype: TensorDType, into output: UnsafeMutableBufferPointer<Float>) {
        switch dtype {
        case .fp32:
            _ = UnsafeMutableRawBufferPointer(output).initializeMemory(as: UInt8.self, from: raw)
        case .uint8:
            for index in 0..<output.count { output[index] = Float(raw[index]) }
        case .fp16:
            for index in 0..<output.count {
                let bits = UInt16(raw[2 * index]) | UInt16(raw[2 * index + 1]) << 8
                output[index] = Float(Float16(bitPattern: bits))
            }
        }
    }
}
