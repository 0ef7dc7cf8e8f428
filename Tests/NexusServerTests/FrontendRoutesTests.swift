import NexusProtocol
import NexusRuntime
@testable import NexusServer
import XCTest

/// Route updates: a stale one is ignored, but a restarted scheduler, which numbers its plans from 1 again,
/// is followed as soon as the frontend registers with it (tests/hosts/restart_scheduler.sh found the frontend
/// routing to a backend the new scheduler had emptied until the new versions overtook the old ones).
final class FrontendRoutesTests: XCTestCase {
    func update(version: UInt64, address: String) -> Nexus_Cluster_RouteUpdate {
        .with {
            $0.version = version
            $0.routes = [.with {
                $0.sessionID = "tb@200ms"
                $0.targets = [.with { $0.nodeID = 1; $0.address = address; $0.ratePerSecond = 100 }]
            }]
        }
    }

    func testAnOlderVersionOfTheSameSchedulerIsIgnored() {
        let routes = FrontendRoutes()
        XCTAssertTrue(routes.update(update(version: 4, address: "a:1")))
        XCTAssertFalse(routes.update(update(version: 3, address: "b:1")))
        XCTAssertEqual(routes.pick(session: "tb@200ms")?.address, "a:1")
    }

    func testARestartedSchedulersFirstUpdateApplies() {
        let routes = FrontendRoutes()
        routes.update(update(version: 4, address: "a:1"))
        let seen = routes.version
        routes.expectNewScheduler()
        XCTAssertEqual(routes.pick(session: "tb@200ms")?.address, "a:1", "the old routes serve until the new ones come")
        XCTAssertTrue(routes.update(update(version: 1, address: "b:1")))
        XCTAssertEqual(routes.pick(session: "tb@200ms")?.address, "b:1")
        XCTAssertGreaterThan(routes.version, seen, "calls waiting for newer routes see the update")
        XCTAssertFalse(routes.update(update(version: 0, address: "c:1")))
    }

    /// A backend the frontend reported but the scheduler still reaches (a link closed by a late keepalive on a
    /// loaded host) is routed to again, and the calls already waiting for routes retry at once: no update is
    /// coming, since the plan did not change (tests/hosts/restart_scheduler.sh lost 7 calls to that wait).
    func testRestoringAReportedBackendWakesTheCallsWaitingForRoutes() async {
        let routes = FrontendRoutes()
        routes.update(update(version: 1, address: "a:1"))
        routes.markUnreachable(1)
        XCTAssertNil(routes.pick(session: "tb@200ms"))
        let seen = routes.version
        let clock = MonotonicClock()
        let waiting = Task { await routes.waitForUpdate(after: seen, deadlineNs: clock.nowNs() + 30_000_000_000, clock: clock) }
        while routes.waiterCount == 0 { await Task.yield() }
        routes.restore(1)
        let woken = await waiting.value
        XCTAssertTrue(woken, "the waiting call is woken by the restore, not by its deadline")
        XCTAssertEqual(routes.pick(session: "tb@200ms")?.address, "a:1")
    }
}
