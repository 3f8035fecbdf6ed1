import Logging
import NIOCore
import Net
import RelayHandover
import STUN
@testable import TURN

/// Records what the core sends; relays get ports 50000, 50002, ... (or the next odd one when asked).
final class FakeIO: TURNIO {
    var toClients: [(ClientKey, [UInt8])] = []
    var toPeers: [(RelayID, TransportAddress, [UInt8])] = []
    var open: [RelayID: TransportAddress] = [:]
    var closed: [RelayID] = []
    var nextPort: UInt16 = 50001
    var nextID = 1
    var refuseRelays = false
    /// Relays opened without a socket (handed to the SFU in process).
    var unbound: Set<RelayID> = []
    /// Relays whose socket must send with the DF bit (DONT-FRAGMENT).
    var dontFragmentRelays: Set<RelayID> = []
    /// What `clientSocket(for:)` answers for UDP clients.
    var listenerSocket: ClientSocket?
    weak var core: TURNCore?

    func sendToClient(_ data: ByteBuffer, _ client: ClientKey) {
        toClients.append((client, Array(data.readableBytesView)))
    }

    func openRelay(address: TransportAddress, ports: ClosedRange<UInt16>, evenPort: Bool,
                   bindSocket: Bool, dontFragment: Bool) -> (id: RelayID, address: TransportAddress)? {
        if refuseRelays { return nil }
        if dontFragment { dontFragmentRelays.insert(nextID) }
        if !bindSocket { unbound.insert(nextID) }
        if evenPort && nextPort % 2 != 0 { nextPort += 1 }
        let relay = address.with(port: nextPort)
        nextPort += 1
        defer { nextID += 1 }
        open[nextID] = relay
        return (nextID, relay)
    }

    func closeRelay(_ relay: RelayID) {
        open[relay] = nil
        closed.append(relay)
    }

    func sendFromRelay(_ relay: RelayID, to peer: TransportAddress, _ data: ByteBuffer) {
        toPeers.append((relay, peer, Array(data.readableBytesView)))
    }

    func clientSocket(for client: ClientKey) -> ClientSocket? {
        client.isTCP ? nil : listenerSocket
    }

    /// The real server hops to its loop; the tests run on one thread already.
    func slowPath(relay: RelayID) -> @Sendable ([UInt8], TransportAddress) -> Void {
        let box = UncheckedBox(self)
        return { bytes, peer in box.value.core?.handlePeerPacket(ByteBuffer(bytes: bytes), relay: relay, from: peer) }
    }
}

/// @unchecked Sendable: test code, one thread.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

final class Clock {
    var milliseconds: UInt64 = 1_000_000
    var unix: Double = 1_800_000_000
    func advance(seconds: Double) {
        milliseconds += UInt64(seconds * 1000)
        unix += seconds
    }
}

/// A core with a fake clock and fake sockets, and a client speaking to it.
struct Harness {
    let core: TURNCore
    let io: FakeIO
    let clock: Clock

    static let realm = "test"
    static let mediaPort: UInt16 = 10000

    init(configure: (inout TURNConfiguration) -> Void = { _ in }) {
        var configuration = TURNConfiguration(
            realm: Self.realm, users: ["alice": "pw", "bob": "pw2"], restSecret: "rest",
            relayIPv4: TransportAddress(ip: "192.0.2.10", port: 0), relayIPv6: nil,
            // Public peers allowed (turn.allow_peers = 0.0.0.0/0, ::/0), as most relay tests need one.
            peerPolicy: PeerPolicy(allow: [CIDR("0.0.0.0/0")!, CIDR("::/0")!], deny: [CIDR("203.0.113.128/25")!],
                                   ownEndpoints: [TransportAddress(ip: "127.0.0.1", port: Self.mediaPort)!]))
        configure(&configuration)
        let clock = Clock(), io = FakeIO()
        self.clock = clock
        self.io = io
        core = TURNCore(configuration: configuration, logger: Logger(label: "test"),
                        clock: { clock.milliseconds }, wallClock: { clock.unix })
        core.io = io
        io.core = core
    }

    func client(_ port: UInt16 = 40000, tcp: Bool = false, user: String = "alice", password: String = "pw") -> Client {
        Client(harness: self, key: ClientKey(address: TransportAddress(ip: "198.51.100.7", port: port)!,
                                             connection: tcp ? 99 : 1, isTCP: tcp),
               user: user, password: password)
    }
}

final class Client {
    let harness: Harness
    let key: ClientKey
    var user: String
    var password: String
    var nonce: String?
    var realm = Harness.realm

    init(harness: Harness, key: ClientKey, user: String, password: String) {
        self.harness = harness
        self.key = key
        self.user = user
        self.password = password
    }

    /// Sends raw bytes; returns what the core answered this client.
    @discardableResult
    func raw(_ bytes: [UInt8]) -> [[UInt8]] {
        let before = harness.io.toClients.count
        harness.core.handleClientPacket(ByteBuffer(bytes: bytes), from: key)
        return harness.io.toClients[before...].filter { $0.0 == key }.map(\.1)
    }

    /// One request; with `authenticate` the credentials (and the last nonce) are added.
    func send(_ method: STUNMethod, _ attributes: [STUNAttribute], authenticate: Bool = true,
              transactionID: [UInt8] = STUNMessage.randomTransactionID()) -> STUNMessage? {
        var attributes = attributes
        var key: [UInt8]?
        if authenticate, let nonce {
            attributes += [.username(user), .realm(realm), .nonce(nonce)]
            key = STUNCredentials.longTermKey(username: user, realm: realm, password: password)
        }
        let message = STUNMessage(method: method, class: .request, transactionID: transactionID, attributes: attributes)
        guard let answer = raw(message.encoded(integrity: key, fingerprint: true)).last else { return nil }
        let parsed = try? STUNMessage.parse(answer)
        if let parsed, let fresh = parsed.nonce { nonce = fresh }
        return parsed
    }

    /// Like a browser: unauthenticated first, then again with the nonce from the 401.
    func request(_ method: STUNMethod, _ attributes: [STUNAttribute]) -> STUNMessage? {
        if nonce == nil {
            let challenge = send(method, attributes, authenticate: false)
            guard challenge?.errorCode?.code == 401 else { return challenge }
        }
        return send(method, attributes)
    }

    func allocate(_ extra: [STUNAttribute] = [.requestedTransport(17)]) -> STUNMessage? {
        request(.allocate, extra)
    }

    var keyBytes: [UInt8] { STUNCredentials.longTermKey(username: user, realm: realm, password: password) }
}

extension STUNMessage {
    var code: Int? { errorCode?.code }
    var isSuccess: Bool { messageClass == .successResponse }
    var relayed: STUNAddress? {
        for case .xorRelayedAddress(let a) in attributes { return a }
        return nil
    }
    var lifetime: UInt32? {
        for case .lifetime(let l) in attributes { return l }
        return nil
    }
}

func peer(_ ip: String, _ port: UInt16) -> STUNAddress {
    STUNAddress(address: TransportAddress(ip: ip, port: port)!.addressBytes, port: port)!
}
