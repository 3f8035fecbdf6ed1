import Testing
@testable import Settings

struct WhitespaceTests {
    @Test func spacesAndTabsAreTrimmedAtBothEnds() {
        #expect(" \t a b \t".trimmingWhitespace == "a b")
        #expect("x".trimmingWhitespace == "x")
        #expect(" \t ".trimmingWhitespace == "")
        #expect("".trimmingWhitespace == "")
        let parts = "1, 2 ,\t3".split(separator: ",").map(\.trimmingWhitespace)
        #expect(parts == ["1", "2", "3"])
    }
}
