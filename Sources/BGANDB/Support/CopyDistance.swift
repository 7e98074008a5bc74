import ArgumentParser
import HammingSearch

/// `--refine-copy-distance`: a distance of 0 or more, or `any` for no ceiling.
struct CopyDistance: ExpressibleByArgument {
    let value: Float?

    init(_ value: Float?) { self.value = value }

    init?(argument: String) {
        if argument == "any" {
            value = nil
        } else if let distance = Float(argument), Refinement.Options.isValidCopyDistance(distance) {
            value = distance
        } else {
            return nil
        }
    }

    var defaultValueDescription: String { value.map { "\($0)" } ?? "any" }
}
