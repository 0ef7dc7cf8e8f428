import NexusCore
import NexusRuntime
import Testing

/// The crop rule of `ChildInput.crops`: which detections become child calls (`CropSelection`) and how a box
/// is cut from the parent's input (`CropResampler`).
@Suite struct CropResamplerTests {
    /// A CHW image whose value at (c, y, x) is `100 c + 10 y + x`: linear in x and y, so a bilinear sample at
    /// (sy, sx) inside the image is exactly `100 c + 10 sy + sx`.
    static func ramp(channels: Int, height: Int, width: Int) -> [Float] {
        var image: [Float] = []
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width { image.append(Float(100 * c + 10 * y + x)) }
            }
        }
        return image
    }

    /// The documented rule, written out independently with doubles: output pixel (i, j) samples source
    /// y = y1 H + (i + 0.5) (box height in pixels / outHeight) - 0.5, x likewise, clamped to the image,
    /// between the floor and the next pixel (clamped).
    static func reference(chw image: [Float], channels: Int, height: Int, width: Int, box: CropBox,
                          outHeight: Int, outWidth: Int) -> [Double] {
        func pixel(_ c: Int, _ y: Int, _ x: Int) -> Double { Double(image[(c * height + y) * width + x]) }
        var output: [Double] = []
        for c in 0..<channels {
            for i in 0..<outHeight {
                var sy = box.y1 * Double(height) + (Double(i) + 0.5) * ((box.y2 - box.y1) * Double(height) / Double(outHeight)) - 0.5
                sy = Swift.min(Swift.max(sy, 0), Double(height - 1))
                let y0 = Int(sy.rounded(.down)), y1 = Swift.min(y0 + 1, height - 1), fy = sy - Double(y0)
                for j in 0..<outWidth {
                    var sx = box.x1 * Double(width) + (Double(j) + 0.5) * ((box.x2 - box.x1) * Double(width) / Double(outWidth)) - 0.5
                    sx = Swift.min(Swift.max(sx, 0), Double(width - 1))
                    let x0 = Int(sx.rounded(.down)), x1 = Swift.min(x0 + 1, width - 1), fx = sx - Double(x0)
                    let top = pixel(c, y0, x0) * (1 - fx) + pixel(c, y0, x1) * fx
                    let bottom = pixel(c, y1, x0) * (1 - fx) + pixel(c, y1, x1) * fx
                    output.append(top * (1 - fy) + bottom * fy)
                }
            }
        }
        return output
    }

    /// Not a ramp: values that bilinear interpolation cannot reproduce by accident.
    static func noise(count: Int) -> [Float] {
        var state: UInt32 = 12345
        return (0..<count).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 24) * 2 - 1
        }
    }

    @Test func theWholeImageAtItsOwnSizeIsTheImage() {
        let image = Self.noise(count: 3 * 5 * 7)
        let output = CropResampler.resample(chw: image, channels: 3, height: 5, width: 7,
                                            box: CropBox(x1: 0, y1: 0, x2: 1, y2: 1, score: 1), outHeight: 5, outWidth: 7)
        #expect(output == image)
    }

    @Test func aBoxOfARampSamplesAtTheDocumentedCoordinates() {
        // 8x8, box x in [2, 6) and y in [4, 8) pixels, out 2x2: step 2, so sx = 2 + (j + 0.5) 2 - 0.5 = 2.5, 4.5
        // and sy = 4.5, 6.5.
        let image = Self.ramp(channels: 2, height: 8, width: 8)
        let output = CropResampler.resample(chw: image, channels: 2, height: 8, width: 8,
                                            box: CropBox(x1: 0.25, y1: 0.5, x2: 0.75, y2: 1, score: 0.9), outHeight: 2, outWidth: 2)
        #expect(output == [47.5, 49.5, 67.5, 69.5, 147.5, 149.5, 167.5, 169.5])
    }

    @Test func samplesOutsideTheImageAreClampedToTheEdge() {
        // 2x2 up to 4x4: s = (o + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped to 0, 0.25, 0.75, 1.
        let image = Self.ramp(channels: 1, height: 2, width: 2)
        let output = CropResampler.resample(chw: image, channels: 1, height: 2, width: 2,
                                            box: CropBox(x1: 0, y1: 0, x2: 1, y2: 1, score: 1), outHeight: 4, outWidth: 4)
        #expect(Array(output[0..<4]) == [0, 0.25, 0.75, 1])
        #expect(Array(output[4..<8]) == [2.5, 2.75, 3.25, 3.5])
        #expect(Array(output[12..<16]) == [10, 10.25, 10.75, 11])
    }

    @Test(arguments: [
        (CropBox(x1: 0.1, y1: 0.2, x2: 0.63, y2: 0.9, score: 1), 5, 4),
        (CropBox(x1: 0.37, y1: 0.05, x2: 0.41, y2: 0.22, score: 1), 3, 6),
        (CropBox(x1: 0, y1: 0, x2: 1, y2: 1, score: 1), 13, 9),
        (CropBox(x1: 0.5, y1: 0.5, x2: 1, y2: 1, score: 1), 7, 7),
    ])
    func anyBoxMatchesTheFormula(box: CropBox, outHeight: Int, outWidth: Int) {
        let (channels, height, width) = (3, 11, 17)
        let image = Self.noise(count: channels * height * width)
        let output = CropResampler.resample(chw: image, channels: channels, height: height, width: width, box: box,
                                            outHeight: outHeight, outWidth: outWidth)
        let expected = Self.reference(chw: image, channels: channels, height: height, width: width, box: box,
                                      outHeight: outHeight, outWidth: outWidth)
        #expect(output.count == expected.count)
        let worst = zip(output, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
        #expect(worst < 1e-5, "largest difference \(worst)")
    }

    // MARK: cut

    /// HWC frame, 3 channels, value `3 (y W + x) + c` (distinct per pixel and channel).
    static func frame(height: Int, width: Int) -> [UInt8] {
        (0..<(height * width * 3)).map { UInt8($0) }
    }

    static func expectedCut(height: Int, width: Int, rows: Range<Int>, columns: Range<Int>) -> [UInt8] {
        var pixels: [UInt8] = []
        for y in rows {
            for x in columns {
                for c in 0..<3 { pixels.append(UInt8(3 * (y * width + x) + c)) }
            }
        }
        return pixels
    }

    @Test func cutTakesTheCoveringPixelRectangle() {
        let frame = Self.frame(height: 4, width: 6)
        // x: 1.2 ... 3.3 pixels -> columns 1..<4; y: 1.2 ... 2.8 -> rows 1..<3.
        let cut = CropResampler.cut(hwc: frame, height: 4, width: 6, channels: 3, box: CropBox(x1: 0.2, y1: 0.3, x2: 0.55, y2: 0.7, score: 1))
        #expect(cut.height == 2 && cut.width == 3)
        #expect(cut.pixels == Self.expectedCut(height: 4, width: 6, rows: 1..<3, columns: 1..<4))
    }

    @Test func cutOfTheWholeFrameIsTheFrame() {
        let frame = Self.frame(height: 4, width: 6)
        let cut = CropResampler.cut(hwc: frame, height: 4, width: 6, channels: 3, box: CropBox(x1: 0, y1: 0, x2: 1, y2: 1, score: 1))
        #expect(cut.height == 4 && cut.width == 6)
        #expect(cut.pixels == frame)
    }

    @Test func cutIsAtLeastOnePixelEvenAtTheFarEdge() {
        let frame = Self.frame(height: 4, width: 6)
        let point = CropResampler.cut(hwc: frame, height: 4, width: 6, channels: 3, box: CropBox(x1: 0.5, y1: 0.5, x2: 0.5, y2: 0.5, score: 1))
        #expect(point.height == 1 && point.width == 1)
        #expect(point.pixels == Self.expectedCut(height: 4, width: 6, rows: 2..<3, columns: 3..<4))
        let corner = CropResampler.cut(hwc: frame, height: 4, width: 6, channels: 3, box: CropBox(x1: 1, y1: 1, x2: 1, y2: 1, score: 1))
        #expect(corner.height == 1 && corner.width == 1)
        #expect(corner.pixels == Self.expectedCut(height: 4, width: 6, rows: 3..<4, columns: 5..<6))
        // Exact pixel edges take no extra row or column.
        let exact = CropResampler.cut(hwc: frame, height: 4, width: 6, channels: 3, box: CropBox(x1: 0.5, y1: 0.25, x2: 1, y2: 0.75, score: 1))
        #expect(exact.height == 2 && exact.width == 3)
        #expect(exact.pixels == Self.expectedCut(height: 4, width: 6, rows: 1..<3, columns: 3..<6))
    }

    // MARK: CropSelection

    static func box(_ x1: Float, _ y1: Float, _ x2: Float, _ y2: Float, _ score: Float) -> CropBox {
        CropBox(x1: Double(x1), y1: Double(y1), x2: Double(x2), y2: Double(y2), score: Double(score))
    }

    @Test func selectionKeepsHighScoresInOrderUpToMax() {
        let values: [Float] = [
            0.1, 0.1, 0.5, 0.5, 0.9,   // kept
            0, 0, 1, 1, 0.3,           // score too low
            0.6, 0.7, 0.2, 0.2, 0.8,   // kept, corners ordered
            -0.5, 0.2, 1.5, 0.4, 0.7,  // kept, clamped to [0, 1]
            0.2, 0.2, 0.3, 0.3, 0.99,  // over max
        ]
        let boxes = CropSelection.select(values: values, scoreAbove: 0.5, maxCrops: 3, width: 100, height: 100)
        #expect(boxes == [
            Self.box(0.1, 0.1, 0.5, 0.5, 0.9),
            Self.box(0.2, 0.2, 0.6, 0.7, 0.8),
            CropBox(x1: 0, y1: Double(Float(0.2)), x2: 1, y2: Double(Float(0.4)), score: Double(Float(0.7))),
        ])
        let all = CropSelection.select(values: values, scoreAbove: 0.5, maxCrops: 10, width: 100, height: 100)
        #expect(all.map(\.score) == [0.9, 0.8, 0.7, 0.99].map { Double(Float($0)) })
        for box in all { #expect(0 <= box.x1 && box.x1 <= box.x2 && box.x2 <= 1 && 0 <= box.y1 && box.y1 <= box.y2 && box.y2 <= 1) }
    }

    @Test func theScoreMustBeStrictlyAboveTheThreshold() {
        let values: [Float] = [0, 0, 1, 1, 0.5, 0, 0, 1, 1, 0.5000001]
        let boxes = CropSelection.select(values: values, scoreAbove: Double(Float(0.5)), maxCrops: 5, width: 10, height: 10)
        #expect(boxes.map(\.score) == [Double(Float(0.5000001))])
    }

    @Test func boxesUnderOnePixelAreSkippedAndDoNotCount() {
        let values: [Float] = [
            0.5, 0.5, 0.504, 0.9, 0.9,   // 0.4 px wide in 100
            0.1, 0.5, 0.9, 0.505, 0.9,   // 0.5 px high in 100
            0.25, 0.25, 0.5, 0.5, 0.6,   // exactly 25 px: kept
        ]
        let boxes = CropSelection.select(values: values, scoreAbove: 0.5, maxCrops: 1, width: 100, height: 100)
        #expect(boxes == [Self.box(0.25, 0.25, 0.5, 0.5, 0.6)])
        // Exactly one pixel (0.25 of 4) is enough.
        let small = CropSelection.select(values: [0.25, 0.5, 0.5, 0.75, 1], scoreAbove: 0, maxCrops: 1, width: 4, height: 4)
        #expect(small == [Self.box(0.25, 0.5, 0.5, 0.75, 1)])
        // The same box in a 2x2 image is half a pixel.
        #expect(CropSelection.select(values: [0.25, 0.5, 0.5, 0.75, 1], scoreAbove: 0, maxCrops: 1, width: 2, height: 2).isEmpty)
        // A box clamped to nothing (entirely outside) is skipped.
        #expect(CropSelection.select(values: [1.2, 0, 1.5, 1, 1], scoreAbove: 0, maxCrops: 1, width: 100, height: 100).isEmpty)
    }

    @Test func malformedInputSelectsNothing() {
        #expect(CropSelection.select(values: [0, 0, 1, 1], scoreAbove: 0, maxCrops: 4, width: 10, height: 10).isEmpty)
        #expect(CropSelection.select(values: [0, 0, 1, 1, 1, 0], scoreAbove: 0, maxCrops: 4, width: 10, height: 10).isEmpty)
        #expect(CropSelection.select(values: [0, 0, 1, 1, 1], scoreAbove: 0, maxCrops: 0, width: 10, height: 10).isEmpty)
        #expect(CropSelection.select(values: [], scoreAbove: 0, maxCrops: 4, width: 10, height: 10).isEmpty)
    }
}
