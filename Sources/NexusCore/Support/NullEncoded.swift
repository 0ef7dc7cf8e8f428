/// An optional that JSON encodes as `null` instead of leaving the key out, so that every object of a
/// report has the same keys (`"prefixGroup": null`, `"p99Ms": null`).
@propertyWrapper
public struct NullEncoded<Value: Encodable & Sendable>: Encodable, Sendable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}
