import JanusAPI
import Testing
@testable import VideoRoom

/// `update`, `subscribe` and `unsubscribe` on a subscriber handle: which lists they carry and
/// Janus 1.1.2's errors for them (recorded against the real Janus), and which streams an
/// `unsubscribe` element names.
@Suite("subscription updates")
struct SubscriptionUpdateTests {
    static func changes(_ name: RequestName, _ fields: [String: JSON]) throws(VideoRoomError)
        -> (subscribe: [RequestBody], unsubscribe: [RequestBody])
    {
        try VideoRoomPlugin.subscriptionChanges(name, RequestBody(fields))
    }

    static func error(_ name: RequestName, _ fields: [String: JSON]) -> VideoRoomError? {
        do {
            _ = try changes(name, fields)
            return nil
        } catch {
            return error
        }
    }

    @Test func subscribeAndUnsubscribeCarryTheirStreamsAsOneSidedUpdates() throws {
        let subscribe = try Self.changes(.subscribe, ["streams": [["feed": 7, "mid": "1"]]])
        #expect(subscribe.subscribe.map { $0.integer("feed") } == [7] && subscribe.unsubscribe.isEmpty)
        let unsubscribe = try Self.changes(.unsubscribe, ["streams": [["sub_mid": "3"], ["feed": 8]]])
        #expect(unsubscribe.subscribe.isEmpty && unsubscribe.unsubscribe.map { $0.string("sub_mid") } == ["3", nil])
        // `update` ignores `streams`.
        let update = try Self.changes(.update, ["subscribe": [["feed": 7]], "streams": [["feed": 1]]])
        #expect(update.subscribe.count == 1 && update.unsubscribe.isEmpty)
        // An unsubscribe element naming nothing is no error (Janus then changes nothing).
        #expect(try Self.changes(.unsubscribe, ["streams": [[:]]]).unsubscribe.count == 1)
    }

    @Test func janusErrors() {
        let cases: [(RequestName, [String: JSON], VideoRoomError)] = [
            (.subscribe, [:], .init(.missingElement, "Missing mandatory element (streams)")),
            (.unsubscribe, [:], .init(.missingElement, "Missing mandatory element (streams)")),
            (.subscribe, ["streams": "x"], .init(.invalidElement, "Invalid element type (streams should be an array)")),
            (.subscribe, ["streams": []], .init(.invalidElement, "Empty subscription list")),
            (.unsubscribe, ["streams": []], .init(.invalidElement, "Empty unsubscription list")),
            (.subscribe, ["streams": [[:]]], .init(.missingElement, "Missing mandatory element (feed)")),
            (.subscribe, ["streams": [["feed": "x"]]],
             .init(.invalidElement, "Invalid element type (feed should be a positive integer)")),
            (.subscribe, ["streams": [["feed": 1, "mid": 1]]], .init(.invalidElement, "Invalid element type (mid should be a string)")),
            (.unsubscribe, ["streams": [["feed": "x"]]],
             .init(.invalidElement, "Invalid element type (feed should be a positive integer)")),
            (.unsubscribe, ["streams": [["sub_mid": 0]]], .init(.invalidElement, "Invalid element type (sub_mid should be a string)")),
            (.update, [:], .init(.missingElement, "At least one of either 'subscribe' or 'unsubscribe' must be present")),
            (.update, ["subscribe": "x"], .init(.invalidElement, "Invalid element type (subscribe should be an array)")),
            (.update, ["subscribe": [], "unsubscribe": []], .init(.invalidElement, "Empty subscription list")),
            (.update, ["subscribe": []], .init(.invalidElement, "Empty subscription list")),
            (.update, ["unsubscribe": []], .init(.invalidElement, "Empty unsubscription list")),
            (.update, ["subscribe": [], "unsubscribe": [["feed": 1, "mid": "1"]]], .init(.invalidElement, "Empty subscription list")),
            (.update, ["subscribe": [[:]]], .init(.missingElement, "Missing mandatory element (feed)")),
        ]
        for (name, fields, expected) in cases {
            #expect(Self.error(name, fields) == expected, "\(name) \(fields)")
        }
    }

    @Test func unsubscribeElementsNameStreams() {
        // sub_mid: that m-line only, whatever feeds it.
        #expect(StreamSelector(subMid: "2").matches(subMid: "2", feed: 5, feedMid: "0"))
        #expect(!StreamSelector(subMid: "2", feed: 5).matches(subMid: "1", feed: 5, feedMid: "0"))
        // feed: all of its streams; feed + mid: that one.
        #expect(StreamSelector(feed: 5).matches(subMid: "0", feed: 5, feedMid: "1"))
        #expect(!StreamSelector(feed: 5).matches(subMid: "0", feed: 6, feedMid: "1"))
        #expect(StreamSelector(feed: 5, mid: "1").matches(subMid: "3", feed: 5, feedMid: "1"))
        #expect(!StreamSelector(feed: 5, mid: "1").matches(subMid: "3", feed: 5, feedMid: "0"))
        // {} or a mid alone: nothing.
        #expect(!StreamSelector().matches(subMid: "0", feed: 5, feedMid: "0"))
        #expect(!StreamSelector(mid: "0").matches(subMid: "0", feed: 5, feedMid: "0"))
    }
}
