import NexusCore
import NexusRuntime
import Testing

@Suite struct InputDecoderTests {
    static let preprocess = PreprocessSpec(height: 2, width: 2, scale: 255, mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1])
    static let spec = ModelSpec(name: "m", directory: "/m", filePath: "/m/model.pt", input: TensorSpec(name: "input", dtype: .fp32, shape: [3, 2, 2]),
                                maxBatch: 4, outputs: [TensorSpec(name: "out", dtype: .fp32, shape: [1])], preprocess: preprocess)

    func decode(_ input: InferenceInput, spec: ModelSpec = Self.spec) throws(InferenceError) -> [Float] {
        var output = [Float](repeating: .nan, count: spec.input.elementCount)
        try output.withUnsafeMutableBufferPointer { (buffer) throws(InferenceError) in try InputDecoder.decode(input, for: spec, into: buffer) }
        return output
    }

    @Test func aFrameOfTheInputSizeIsNormalisedIntoCHW() throws {
        // HWC pixels: (0,0)=(255,0,0) (0,1)=(0,255,0) (1,0)=(0,0,255) (1,1)=(255,255,255).
        let pixels: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]
        let values = try decode(.tensor(dtype: .uint8, shape: [2, 2, 3], bytes: pixels))
        // (p/255 - 0.5) / std: red plane with std 0.25, green 0.5, blue 1.
        #expect(values == [2, -2, -2, 2, -1, 1, -1, 1, -0.5, -0.5, 0.5, 0.5])
    }

    @Test func aLargerFrameIsResizedBilinearlyWithHalfPixelCentres() throws {
        // A 4x4 horizontal ramp 0, 85, 170, 255 becomes, at 2x2, samples at x = 0.5 and 2.5: 42.5 and 212.5.
        let ramp: [UInt8] = (0..<4).flatMap { _ in [0, 85, 170, 255].flatMap { [UInt8]([$0, $0, $0]) } }
        let values = try decode(.tensor(dtype: .uint8, shape: [4, 4, 3], bytes: ramp))
        let red = values[0..<4].map { ($0 * 0.25 + 0.5) * 255 }
        #expect(red.map { ($0 * 10).rounded() / 10 } == [42.5, 212.5, 42.5, 212.5])
    }

    @Test func rawTensorsConvertFromTheirDtype() throws {
        var fp16Spec = Self.spec
        fp16Spec.input.dtype = .fp16
        let halfBits: [UInt16] = [0x3C00, 0xC000, 0x3800, 0, 0, 0, 0, 0, 0, 0, 0, 0x7BFF] // 1, -2, 0.5 ... 65504
        let bytes = halfBits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let values = try decode(.tensor(dtype: .fp16, shape: [1, 3, 2, 2], bytes: bytes), spec: fp16Spec)
        #expect(Array(values.prefix(3)) == [1, -2, 0.5] && values.last == 65504)
    }

    @Test func aShapeWhoseByteCountOverflowsIsRefusedNotATrap() {
        #expect(throws: InferenceError.invalidArgument("input 'input' shape [2305843009213693951, 8] of FP32 is larger than any request can be (more than 9223372036854775807 bytes)")) {
            try decode(.tensor(dtype: .fp32, shape: [Int.max / 4, 8], bytes: [0, 0, 0, 0]))
        }
    }

    @Test func jpegWithoutPreprocessIsRefused() {
        var plain = Self.spec
        plain.preprocess = nil
        #expect(throws: InferenceError.invalidArgument("model 'm' takes raw FP32 tensors of shape [3, 2, 2], not JPEG (its model.yaml has no preprocess)")) {
            try decode(.jpeg([0xFF, 0xD8]), spec: plain)
        }
    }

    @Test(.enabled(if: Fixtures.fixturesEnabled, "needs the exporter's JPEG fixture (run .ci/run)"))
    func jpegDecodesLikePillowAndGarbageIsInvalid() throws {
        let jpeg = try Fixtures.bytes("\(Fixtures.referencePath)/jpeg/image.jpg")
        let expected = try Fixtures.bytes("\(Fixtures.referencePath)/jpeg/pixels.u8")
        let decoded = try TurboJPEG.shared.get().decodeRGB(jpeg)
        #expect(decoded.width == 64 && decoded.height == 48)
        let worst = zip(decoded.pixels, expected).map { abs(Int($0) - Int($1)) }.max()
        #expect(worst.map { $0 <= 1 } == true, "libjpeg-turbo and Pillow decode alike (worst \(worst ?? -1))")
        #expect { try decode(.jpeg([1, 2, 3, 4])) } throws: { "\($0)".contains("input 'input': not a JPEG image") }
    }
}
