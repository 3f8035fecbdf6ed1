/// Which addresses become host candidates, from allow/deny lists, loopback and 1:1 NAT.
import Testing
import Net
@testable import ICE

@Suite struct HostCandidateTests {
    static func entry(_ name: String, _ ip: String, up: Bool = true) -> InterfaceAddress {
        InterfaceAddress(name: name, address: TransportAddress(ip: ip, port: 0)!, isUp: up)
    }

    let machine = [
        entry("lo", "127.0.0.1"), entry("lo", "::1"), entry("eth0", "192.0.2.10"), entry("eth0", "2001:db8::10"),
        entry("eth0", "fe80::1"), entry("docker0", "172.17.0.1"), entry("wlan0", "198.51.100.7", up: false),
    ]

    func ips(_ addresses: [TransportAddress]) -> [String] { addresses.map(\.ip) }

    @Test func defaultsAnnounceExternalAddressesIPv4FirstWithoutLoopbackLinkLocalOrIgnored() {
        let policy = HostCandidatePolicy(ignore: ["docker", "veth"])
        #expect(ips(policy.select(from: machine)) == ["192.0.2.10", "2001:db8::10"])
    }

    @Test func loopbackOnlyMachineAnnouncesLoopback() {
        let namespace = [Self.entry("lo", "127.0.0.1"), Self.entry("lo", "::1")]
        #expect(ips(HostCandidatePolicy().select(from: namespace)) == ["127.0.0.1", "::1"])
        #expect(ips(HostCandidatePolicy(ipv6: false).select(from: namespace)) == ["127.0.0.1"])
    }

    @Test func allowListByNameOrAddressCanNameLoopback() {
        #expect(ips(HostCandidatePolicy(allow: ["lo"]).select(from: machine)) == ["127.0.0.1", "::1"])
        #expect(ips(HostCandidatePolicy(allow: ["127.0.0.1", "eth0"]).select(from: machine))
            == ["127.0.0.1", "192.0.2.10", "2001:db8::10"])
        #expect(ips(HostCandidatePolicy(allow: ["2001:db8::10"]).select(from: machine)) == ["2001:db8::10"])
    }

    @Test func natMappingReplacesOrJoinsTheLocalAddresses() {
        let publicIP = TransportAddress(ip: "203.0.113.5", port: 0)
        #expect(ips(HostCandidatePolicy(publicAddress: publicIP).select(from: machine)) == ["203.0.113.5"])
        #expect(ips(HostCandidatePolicy(ignore: ["docker"], ipv6: false, publicAddress: publicIP, keepPrivate: true).select(from: machine))
            == ["203.0.113.5", "192.0.2.10"])
    }

    @Test func candidateLineAndPriorityOrder() {
        let first = HostCandidate(address: TransportAddress(ip: "127.0.0.1", port: 10000)!, index: 0)
        let second = HostCandidate(address: TransportAddress(ip: "::1", port: 10000)!, index: 1)
        #expect(first.sdpValue == "1 1 udp 2130706431 127.0.0.1 10000 typ host")
        #expect(second.priority < first.priority)
        #expect(second.sdpValue.hasPrefix("2 1 udp"))
    }

    @Test func transportAddressRoundTripsAndClassifies() {
        let v4 = TransportAddress(ip: "127.0.0.1", port: 5)!
        #expect(v4.isIPv4 && v4.isLoopback && v4.description == "127.0.0.1:5")
        #expect(TransportAddress(bytes: v4.addressBytes, port: 5) == v4)
        let v6 = TransportAddress(ip: "2001:db8::1", port: 7)!
        #expect(!v6.isIPv4 && !v6.isLoopback && v6.description == "[2001:db8::1]:7")
        #expect(TransportAddress(bytes: v6.addressBytes, port: 7) == v6)
        #expect(TransportAddress(ip: "fe80::2", port: 0)!.isLinkLocal)
        #expect(TransportAddress(ip: "not an ip", port: 0) == nil)
    }
}
