import Basics
import Testing

private enum ParsingDomain: ErrorDomain { static let name = "parsing" }
private typealias ParsingError = LibraryError<ParsingDomain>
private extension ErrorCode where Domain == ParsingDomain {
    static let truncated = Self("truncated")
    static let refused = Self("refused")
}

private struct OperatingSystemStatus: Error, CustomStringConvertible {
    let value: Int32
    var description: String { "status \(value)" }
}

@Suite struct ChainedErrorTests {
    @Test func anErrorKeepsItsCodeMessageCauseAndLocation() {
        let status = OperatingSystemStatus(value: 5)
        let inner = ParsingError(.truncated, "the file ends at byte 12", cause: status)
        let line = #line + 1
        let outer = ParsingError(.refused, "the model is refused", cause: inner)
        #expect(outer.code == .refused)
        #expect(outer.domain == "parsing" && outer.codeName == "refused")
        #expect(outer.location.file.hasSuffix("ChainedErrorTests.swift") && outer.location.line == line)
        #expect(outer.chain.count == 3)
        #expect((outer.rootCause as? OperatingSystemStatus)?.value == 5)
        #expect(outer.hasCause(ParsingError.self) { $0.code == .truncated })
        #expect(!outer.hasCause(ParsingError.self) { $0.code == .refused && $0.message.contains("ends") })
        #expect(outer.description == "refused: the model is refused ← truncated: the file ends at byte 12 ← status 5")
    }

    @Test func equalityComparesCodeAndMessageOnly() {
        let a = ParsingError(.refused, "no", cause: OperatingSystemStatus(value: 1))
        let b = ParsingError(.refused, "no")
        #expect(a == b)
        #expect(a != ParsingError(.truncated, "no"))
        #expect(a != ParsingError(.refused, "yes"))
    }

    @Test func anyChainedErrorIsMatchedAcrossDomains() {
        let thrown: any Error = ParsingError(.truncated, "short")
        let matched = thrown as? any ChainedError
        #expect(matched?.domain == "parsing")
        #expect(matched?.codeName == "truncated")
        #expect(matched?.cause == nil)
    }
}
