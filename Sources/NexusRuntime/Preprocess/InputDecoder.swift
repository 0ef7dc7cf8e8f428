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
            switch try InputCheck.check(dtype: dtype, rawShape: rawShape, byteCount: bytes.count, for: spec) {
            case .modelInput:
                bytes.withUnsafeBytes { convert($0, dtype: dtype, into: output) }
            case let .frame(height, width, channels):
                bytes.withUnsafeBufferPointer {
                    ImageNormalizer.normalize(pixels: $0, height: height, width: width, channels: channels, spec: spec.preprocess!, into: output)
                }
            }
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
