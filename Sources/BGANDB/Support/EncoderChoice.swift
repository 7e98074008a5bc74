import ArgumentParser

/// The encoders `bgan-db create` binds and `bgan-db encode` runs: a BGAN model file, or PDQ.
enum EncoderChoice: String, ExpressibleByArgument, CaseIterable {
    case bgan, pdq
}
