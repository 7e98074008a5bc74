import Foundation
import PixelIO

/// Which command-line inputs are image files, and the image files of folders.
enum ImageFiles {
    /// The image files `input` stands for: itself when it is an image file, the image files
    /// beneath it (recursively, sorted by path, symbolic links not followed) when it is a folder;
    /// nil when it is neither (a data set such as IDX or CIFAR).
    static func expand(_ input: String) throws -> [String]? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
            throw ValidationErrorText("\(input) does not exist")
        }
        if isDirectory.boolValue {
            guard let walker = FileManager.default.enumerator(atPath: input) else { throw ValidationErrorText("cannot list the folder \(input)") }
            var files: [String] = []
            while let relative = walker.nextObject() as? String {
                let path = (input as NSString).appendingPathComponent(relative)
                if walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular, isImage(path) { files.append(path) }
            }
            return files.sorted()
        }
        return isImage(input) ? [input] : nil
    }

    /// Whether the file starts like a PNG, JPEG, PGM or PPM image.
    static func isImage(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        return ImageDecoder.format(of: Array(head)) != nil
    }
}

/// A plain error message for the console.
struct ValidationErrorText: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
