/// EchoTest's RTCP edits: the feedback Confab answers itself (generic NACK, transport-wide CC)
/// is taken out of what is relayed to the browser; everything else stays, in order.
import Testing
import RTP
@testable import EchoTest

@Suite("EchoTest RTCP")
struct EchoRTCPTests {
    static let receiverReport: [UInt8] = [0x80, 201, 0, 1, 0, 0, 0, 1]
    static let pli: [UInt8] = [0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]
    static let nack: [UInt8] = [0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 10, 0, 0]
    static let transportCC: [UInt8] = [0x8F, 205, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0]

    static func packetTypes(_ bytes: [UInt8]) -> [(UInt8, UInt8)] {
        bytes.withUnsafeBytes { compound in RTCPCompoundIterator(compound).map { ($0.packetType, $0.format) } }
    }

    @Test func nacksAndTransportFeedbackAreRemovedTheRestKept() {
        var compound = Self.receiverReport + Self.nack + Self.pli + Self.transportCC + Self.nack
        let kept = compound.withUnsafeMutableBytes { EchoRTCP.removeFeedbackAnsweredHere($0) }
        #expect(kept == Self.receiverReport.count + Self.pli.count)
        #expect(Array(compound[0..<kept]) == Self.receiverReport + Self.pli)
    }

    @Test func onlyAnsweredFeedbackLeavesNothing() {
        var compound = Self.nack + Self.transportCC
        #expect(compound.withUnsafeMutableBytes { EchoRTCP.removeFeedbackAnsweredHere($0) } == 0)
        var untouched = Self.receiverReport + Self.pli
        let before = untouched
        #expect(untouched.withUnsafeMutableBytes { EchoRTCP.removeFeedbackAnsweredHere($0) } == before.count)
        #expect(untouched == before && Self.packetTypes(untouched).map(\.0) == [201, 206])
    }
}
