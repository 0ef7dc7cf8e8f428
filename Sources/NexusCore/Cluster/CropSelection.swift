/// Which detections of a parent's output become child calls (`ChildInput.crops`). Pure, so the frontend,
/// the tests and a reference implementation agree on one rule.
public struct CropBox: Sendable, Equatable {
    /// Normalised corners in [0, 1], x1 <= x2, y1 <= y2.
    public var x1: Double, y1: Double, x2: Double, y2: Double
    public var score: Double

    public init(x1: Double, y1: Double, x2: Double, y2: Double, score: Double) {
        self.x1 = x1
        self.y1 = y1
        self.x2 = x2
        self.y2 = y2
        self.score = score
    }
}

public enum CropSelection {
    /// Rows of `values` (5 per row: x1, y1, x2, y2, score) scoring above `scoreAbove`, in order, at most
    /// `maxCrops`. Corners are clamped to [0, 1] and ordered; a box under one pixel wide or high in a
    /// `width` x `height` image is skipped and does not count.
    public static func select(values: [Float], scoreAbove: Double, maxCrops: Int, width: Int, height: Int) -> [CropBox] {
        guard values.count % 5 == 0, maxCrops > 0 else { return [] }
        var boxes: [CropBox] = []
        for row in 0..<(values.count / 5) where boxes.count < maxCrops {
            let score = Double(values[row * 5 + 4])
            guard score > scoreAbove else { continue }
            func clamp(_ v: Float) -> Double { Swift.min(1, Swift.max(0, Double(v))) }
            let (a, b, c, d) = (clamp(values[row * 5]), clamp(values[row * 5 + 1]), clamp(values[row * 5 + 2]), clamp(values[row * 5 + 3]))
            let box = CropBox(x1: Swift.min(a, c), y1: Swift.min(b, d), x2: Swift.max(a, c), y2: Swift.max(b, d), score: score)
            guard (box.x2 - box.x1) * Double(width) >= 1, (box.y2 - box.y1) * Double(height) >= 1 else { continue }
            boxes.append(box)
        }
        return boxes
    }
}
