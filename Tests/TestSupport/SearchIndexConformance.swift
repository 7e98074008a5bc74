import HammingSearch
import Testing

/// Checks that every index in `conformances` answers every query like the oracle: the same k
/// nearest (ids and distances, ties to the smaller id) for every k, and the same items within
/// every radius. Shared by the conformance suites of the in-memory and on-disk indexes.
public func expectConform(_ conformances: [(name: String, index: any SearchIndex)], to oracle: FlatIndex, queries: [BinaryCode],
                          ks: [Int] = [1, 7, 100], radii: [Int] = [0, 2, 5], _ label: String,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
    for (name, index) in conformances {
        #expect(index.bitCount == oracle.bitCount, "\(name), \(label): code lengths", sourceLocation: sourceLocation)
    }
    for (q, query) in queries.enumerated() {
        for k in ks {
            let expected = try oracle.nearest(to: query, k: k).neighbors
            for (name, index) in conformances {
                let found = try index.nearest(to: query, k: k).neighbors
                #expect(found == expected, "\(name), \(label): query \(q), k \(k)", sourceLocation: sourceLocation)
            }
        }
        for radius in radii {
            let expected = try oracle.within(radius: radius, of: query).neighbors
            for (name, index) in conformances {
                let found = try index.within(radius: radius, of: query).neighbors
                #expect(found == expected, "\(name), \(label): query \(q), radius \(radius)", sourceLocation: sourceLocation)
            }
        }
    }
}
