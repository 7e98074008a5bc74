import ArgumentParser

/// The encoders `bgan-db create` binds and `bgan-db encode` runs: a BGAN model file, the bundled
/// photo model, or PDQ.
enum EncoderChoice: String, ExpressibleByArgument, CaseIterable {
    case bgan, photo, pdq
}
