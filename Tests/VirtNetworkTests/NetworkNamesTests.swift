import Testing
@testable import VirtNetwork

@Suite struct NetworkNamesTests {
    @Test func secondaryInterfacesAreNumberedFromOneAndBridgesNamedAfterThem() {
        #expect(NetworkNames.secondaryInterface(1) == "net1")
        #expect(NetworkNames.inPodBridge(for: "eth0") == "k6t-eth0")
        #expect(NetworkNames.inPodBridge(for: NetworkNames.secondaryInterface(2)) == "k6t-net2")
    }
}
