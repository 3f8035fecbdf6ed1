import JanusAPI
import Testing

@testable import Transports

/// The long poll's query string, decoded without Foundation (`+` is a space, `%XX` a byte).
struct LongPollQueryTests {
    @Test func queryValuesArePercentAndPlusDecoded() throws {
        let poll = try #require(LongPoll(target: "/janus/123?maxev=5&token=a%2Bb+c%3D&apisecret=%E2%82%AC",
                                         basePath: "/janus"))
        #expect(poll.sessionID == 123)
        #expect(poll.maxEvents == 5)
        #expect(poll.credentials["token"] == .string("a+b c="))
        #expect(poll.credentials["apisecret"] == .string("€"))
    }

    @Test func malformedEscapesAreKeptAsSent() throws {
        #expect(LongPoll.percentDecoded("100%") == nil)
        #expect(LongPoll.percentDecoded("%zz") == nil)
        #expect(LongPoll.percentDecoded("%ff%fe") == nil)  // not UTF-8
        let poll = try #require(LongPoll(target: "/janus/7?token=50%25%zz", basePath: "/janus"))
        #expect(poll.credentials["token"] == .string("50%25%zz"))
    }
}
