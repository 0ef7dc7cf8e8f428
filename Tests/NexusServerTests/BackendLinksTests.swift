@testable import NexusServer
import Testing

/// Large calls take a stream of their own to a backend, so small calls are not queued behind them.
@Suite struct BackendLinksTests {
    @Test func callsOfAMebibyteOrMoreTakeTheBulkLink() {
        let address = "10.0.0.1:8200"
        #expect(BackendLinks.linkKey(address: address, inputBytes: 0) == address)
        #expect(BackendLinks.linkKey(address: address, inputBytes: BackendLinks.bulkBytes - 1) == address)
        #expect(BackendLinks.linkKey(address: address, inputBytes: BackendLinks.bulkBytes) != address)
        #expect(BackendLinks.linkKey(address: address, inputBytes: 60_000_000) == BackendLinks.linkKey(address: address, inputBytes: BackendLinks.bulkBytes))
    }
}
