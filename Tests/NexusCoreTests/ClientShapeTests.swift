import NexusCore
import XCTest

final class ClientShapeTests: XCTestCase {
    func testByteCountMultipliesWithTheElementSize() {
        XCTAssertEqual(ClientShape.byteCount([1, 3, 4, 4] as [Int64], elementBytes: 4), .success(192))
        XCTAssertEqual(ClientShape.byteCount([] as [Int64]), .success(1))
    }

    func testByteCountReportsOverflowInsteadOfTrapping() {
        XCTAssertEqual(ClientShape.byteCount([4_294_967_296, 4_294_967_296] as [Int64]), .failure(.overflow))
        XCTAssertEqual(ClientShape.byteCount([Int64.max / 2] as [Int64], elementBytes: 4), .failure(.overflow))
        XCTAssertEqual(ClientShape.byteCount([Int64.max] as [Int64]), .success(Int.max))
    }

    func testByteCountNamesTheFirstDimensionBelowOne() {
        XCTAssertEqual(ClientShape.byteCount([-1, -1] as [Int64]), .failure(.dimensionBelowOne(index: 0, value: -1)))
        XCTAssertEqual(ClientShape.byteCount([Int64.max, Int64.max, 0] as [Int64]), .failure(.dimensionBelowOne(index: 2, value: 0)))
        XCTAssertEqual(ClientShape.byteCount([3, 0, Int64.max] as [Int64]), .failure(.dimensionBelowOne(index: 1, value: 0)))
    }

    func testDescribeCutsLongShapes() {
        XCTAssertEqual(ClientShape.describe([1, 2] as [Int64]), "[1, 2]")
        XCTAssertEqual(ClientShape.describe([Int64](repeating: 7, count: 10), maxDimensions: 3), "[7, 7, 7, ... (10 dimensions)]")
    }

    func testClientTextIsQuotedWholeWhenShortAndCutWhenLong() {
        XCTAssertEqual(ClientText.quote("resnet"), "resnet")
        let cut = ClientText.quote(String(repeating: "x", count: 1000))
        XCTAssertEqual(cut, String(repeating: "x", count: ClientText.maxCharacters) + "... (1000 bytes)")
    }
}
