import Testing
@testable import NexusServer

/// `grpc-timeout` as clients send it: every unit, and what is not a timeout (the call then keeps its SLO).
@Suite struct GRPCTimeoutTests {
    @Test(arguments: [
        ("1H", Int64(3_600_000_000_000)), ("2M", 120_000_000_000), ("5S", 5_000_000_000), ("250m", 250_000_000),
        ("99999999u", 99_999_999_000), ("7n", 7), ("0m", 0), ("99999999H", Int64.max),
    ])
    func validValuesAreNanoseconds(value: String, ns: Int64) {
        #expect(GRPCTimeout.nanoseconds(value) == ns)
    }

    @Test(arguments: ["", "m", "5", "123456789m", "-5m", "5x", "5 m", "1.5S", "５m"])
    func invalidValuesAreNone(value: String) {
        #expect(GRPCTimeout.nanoseconds(value) == nil)
        #expect(GRPCTimeout.deadlineNs(value, arrivalNs: 10) == .max)
    }

    @Test func theDeadlineCountsFromArrivalWithoutOverflow() {
        #expect(GRPCTimeout.deadlineNs("20m", arrivalNs: 1_000) == 20_001_000)
        #expect(GRPCTimeout.deadlineNs(nil, arrivalNs: 1_000) == .max)
        #expect(GRPCTimeout.deadlineNs("99999999H", arrivalNs: 5) == .max)
        #expect(GRPCTimeout.deadlineNs("1H", arrivalNs: .max - 10) == .max)
    }
}
