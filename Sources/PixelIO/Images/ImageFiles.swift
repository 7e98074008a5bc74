import Foundation


/// Which inputs are image files, and what a folder holds.
public enum ImageFiles {
    /// The image files `input` stands for, and what was passed over on the way.
    public struct Listing: Sendable {
        /// Image files, sorted by path.
        public var images: [String]
        /// Entries of a folder that are not image files, with the reason: other files,
        /// unreadable files, symbolic links (never followed).
        public var passedOver: [SkippedInput]
    }

    /// `input` itself when it is an image file; the image files beneath it (recursively, in
    /// path order, symbolic links not followed) when it is a folder; nil when it is neither
    /// (a data set such as IDX or CIFAR). One walk of the folder.
    /// - Throws: ``DatasetError`` `.unreadable` when `input` does not exist or a folder cannot be listed.
    public static func expand(_ input: String) throws -> Listing? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
            throw DatasetError(.unreadable, "\(input) does not exist; check the path")
        }
        guard isDirectory.boolValue else {
            return isImage(input) ? Listing(images: [input], passedOver: []) : nil
        }
        guard let walker = FileManager.default.enumerator(atPath: input) else {
            throw DatasetError(.unreadable, "cannot list the folder \(input); check its permissions")
        }
        var listing = Listing(images: [], passedOver: [])
        while let relative = walker.nextObject() as? String {
            let path = (input as NSString).appendingPathComponent(relative)
            switch walker.fileAttributes?[.type] as? FileAttributeType {
            case .typeRegular?:
                let head = Self.head(path)
                if let head, ImageDecoder.format(of: head) != nil {
                    listing.images.append(path)
                } else if let head, let other = ImageDecoder.unsupportedFormat(of: head) {
                    listing.passedOver.append(SkippedInput(path, ImageDecoder.refusal(of: other)))
                } else {
                    listing.passedOver.append(SkippedInput(path, head != nil ? "not a PNG, JPEG, WebP, BMP, PGM or PPM image" : "cannot be read (permission)"))
                }
            case .typeSymbolicLink?:
                listing.passedOver.append(SkippedInput(path, "a symbolic link: not followed"))
            default:
                break
            }
        }
        listing.images.sort()
        listing.passedOver.sort { $0.name < $1.name }
        return listing
    }

    /// Whether the file starts like a PNG, JPEG, WebP, BMP, PGM or PPM image.
    public static func isImage(_ path: String) -> Bool {
        head(path).map { ImageDecoder.format(of: $0) != nil } ?? false
    }

    /// The first 16 bytes of the file (fewer if it is shorter), or nil when it cannot be read.
    static func head(_ path: String) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return Array((try? handle.read(upToCount: 16)) ?? Data())
    }
}
