import Testing
@testable import VideoRoom

@Suite("rtp_forward rtcp_port: which RTCP asks for a keyframe")
struct ForwarderFeedbackTests {
    private func asks(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { ForwarderFeedback.asksForKeyframe($0) }
    }

    @Test func pliAndFirAskReportsDoNot() {
        let pli: [UInt8] = [0x81, 206, 0, 2, 0, 0, 0, 1, 0xAA, 0xBB, 0xCC, 0xDD]
        let fir: [UInt8] = [0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0xAA, 0xBB, 0xCC, 0xDD, 7, 0, 0, 0]
        let receiverReport: [UInt8] = [0x80, 201, 0, 1, 0, 0, 0, 1]
        let remb: [UInt8] = [0x8F, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0]
        #expect(asks(pli))
        #expect(asks(fir))
        #expect(asks(receiverReport + pli))
        #expect(!asks(receiverReport))
        #expect(!asks(remb))
        #expect(!asks([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))   // the latch packet
        #expect(!asks(Array(pli.prefix(10))))                       // truncated
    }
}
