import ArgumentParser
import BGANStore
import PixelIO

struct PutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Insert an item, or replace the item with the same key.")

    @OptionGroup var location: StoreLocation

    @Argument(help: "The item's key (1 to 511 bytes of UTF-8).")
    var key: String

    @Option(help: "The code as hex, two digits per byte.")
    var code: String?

    @Option(help: "An image file (PNG, JPEG, WebP, BMP, PGM, PPM) to encode with the store's encoder.")
    var image: String?

    @Option(help: "Payload text stored with the item (a path, a URL, JSON).")
    var payload: String = ""

    @OptionGroup var durability: Durability

    func validate() throws {
        guard (code == nil) != (image == nil) else { throw ValidationError("give exactly one of --code HEX or --image FILE") }
    }

    func run() throws {
        try Console.reportingErrors {
            let store = try location.open(sync: durability.mode)
            let itemCode = try image.map { try store.codes(of: [try store.imageDecoder().decodeForEncoding(contentsOf: $0).image])[0] } ?? BinaryCode(hex: code!)
            let replaced = try store.upsert(StoreItem(key: key, code: itemCode, payload: Array(payload.utf8)))
            Console.log(replaced ? "replaced \(key)" : "inserted \(key)")
        }
    }
}

struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print the code and payload stored under a key (exit 1 if absent).")

    @OptionGroup var location: StoreLocation

    @Argument(help: "The item's key.")
    var key: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        try Console.reportingErrors {
            let store = try location.open(readOnly: true)
            guard let item = try store.item(forKey: key) else {
                throw StoreError(.invalidArgument, "no item has the key '\(key)'")
            }
            if json {
                Console.out(try JSON.encode(item))
            } else {
                Console.out("\(item.key)\t\(item.code.hex)\t\(Payload.text(item.payload))")
            }
        }
    }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Remove items by key, in one transaction.")

    @OptionGroup var location: StoreLocation

    @Argument(help: "Keys to remove.")
    var keys: [String] = []

    @Option(help: "A text file with more keys to remove, one per line (for thousands of keys: the command line parses them slowly).")
    var keysFile: String?

    @OptionGroup var durability: Durability

    func validate() throws {
        guard !keys.isEmpty || keysFile != nil else { throw ValidationError("give the keys to remove, or --keys-file FILE") }
    }

    func run() throws {
        try Console.reportingErrors {
            var all = keys
            if let keysFile { all += try ImportCommand.readKeys(keysFile) }
            let removed = try location.open(sync: durability.mode).remove(keys: all)
            Console.log("removed \(removed) of \(all.count) items")
        }
    }
}
