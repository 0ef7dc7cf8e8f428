/// Sizes computed from a shape a client sent. Every product is overflow-checked: a shape such as
/// [4294967296, 4294967296] must be an error naming the field, never a trap that takes the process down.
public enum ClientShape {
    /// Why a client's shape has no size.
    public enum Problem: Error, Equatable, Sendable {
        /// A dimension below 1 (-1 is a wildcard in metadata, never a size in a request).
        case dimensionBelowOne(index: Int, value: Int64)
        /// The product of the dimensions (times the element size) exceeds `Int.max`.
        case overflow
    }

    /// The number of elements of `shape` times `elementBytes`, or the first problem found. An empty shape is a
    /// scalar (one element).
    public static func byteCount(_ shape: [Int64], elementBytes: Int = 1) -> Result<Int, Problem> {
        // Every dimension first, so the error names a bad dimension even where the product overflows earlier.
        if let index = shape.firstIndex(where: { $0 < 1 }) {
            return .failure(.dimensionBelowOne(index: index, value: shape[index]))
        }
        var product = elementBytes
        for dimension in shape {
            let (value, overflow) = product.multipliedReportingOverflow(by: Int(dimension))
            if overflow { return .failure(.overflow) }
            product = value
        }
        return .success(product)
    }

    /// `byteCount` for a shape already held as `Int`.
    public static func byteCount(_ shape: [Int], elementBytes: Int = 1) -> Result<Int, Problem> {
        byteCount(shape.map(Int64.init), elementBytes: elementBytes)
    }

    /// A shape as errors print it: at most `maxDimensions` dimensions, then how many more there were, so a
    /// shape of a million dimensions does not make the error itself too large to deliver.
    public static func describe(_ shape: [Int64], maxDimensions: Int = 8) -> String {
        guard shape.count > maxDimensions else { return "\(shape)" }
        let shown = shape.prefix(maxDimensions).map(String.init).joined(separator: ", ")
        return "[\(shown), ... (\(shape.count) dimensions)]"
    }

    public static func describe(_ shape: [Int], maxDimensions: Int = 8) -> String {
        describe(shape.map(Int64.init), maxDimensions: maxDimensions)
    }
}
