import BGANStore
import Foundation
import HTTPTypes
import Hummingbird
import PixelIO
import Prometheus

/// The service's HTTP interface over one store. Every store call is the library's async API, so
/// LMDB and BLAS work runs on the store's blocking pool, never on the server's event loops or
/// the cooperative pool.
struct Routes: Sendable {
    let store: Store
    let registry: PrometheusCollectorRegistry
    /// Largest request body accepted, in bytes.
    let maximumBody: Int
    /// Decodes bodies as the store needs them (``Store/imageDecoder(maximumPixels:)``), as `bgan-db
    /// ingest` does, so an image is encoded alike whichever way it came in.
    let decoder: ImageDecoder

    static let payloadHeader = HTTPField.Name("X-Payload")!

    func add(to router: Router<BasicRequestContext>) {
        router.get("health") { _, _ in try await health() }
        router.get("metrics") { _, _ in metrics() }
        router.post("items/:key") { request, context in try await put(request, key: try context.parameters.require("key")) }
        router.get("items/:key") { _, context in try await item(key: try context.parameters.require("key")) }
        router.delete("items/:key") { _, context in try await delete(key: try context.parameters.require("key")) }
        router.get("items/:key/thumbnail") { _, context in try await thumbnail(key: try context.parameters.require("key")) }
        router.post("search") { request, _ in try await search(request) }
    }

    func health() async throws -> Health {
        Health(status: "ok", items: try await store.count(), bits: store.bitCount)
    }

    func metrics() -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                 body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }

    /// `POST /items/{key}`: the body is an image (PNG, JPEG, WebP, BMP, PGM, PPM); the `X-Payload` header,
    /// if any, is stored as the item's payload. Creates or replaces the item.
    func put(_ request: Request, key: String) async throws -> EditedResponse<Stored> {
        let decoded = try await decodeImage(request)
        let payload = request.headers[Self.payloadHeader].map { Array($0.utf8) } ?? []
        let summary = try await mapped { try await store.write(images: [ImageItem(key: key, decoded: decoded, payload: payload)], mode: .upsert) }
        // Read back after the commit: null only if another request removed it since.
        let stored = Stored(key: key, code: try await store.item(forKey: key)?.code.hex, created: summary.inserted == 1)
        return EditedResponse(status: stored.created ? .created : .ok, response: stored)
    }

    /// `GET /items/{key}`: the item's code and payload.
    func item(key: String) async throws -> Item {
        guard let item = try await store.item(forKey: key) else { throw HTTPError(.notFound, message: "no item has the key '\(key)'") }
        return Item(key: item.key, code: item.code.hex, payload: String(decoding: item.payload, as: UTF8.self))
    }

    /// `DELETE /items/{key}`: 204, or 404 for an unknown key.
    func delete(key: String) async throws -> Response {
        let removed = try await mapped { try await store.remove(keys: [key]) }
        guard removed == 1 else { throw HTTPError(.notFound, message: "no item has the key '\(key)'") }
        return Response(status: .noContent)
    }

    /// `GET /items/{key}/thumbnail`: the PNG kept with the item.
    func thumbnail(key: String) async throws -> Response {
        guard let image = try await store.thumbnail(forKey: key) else {
            let exists = try await store.item(forKey: key) != nil
            throw HTTPError(.notFound, message: exists ? "the item '\(key)' has no thumbnail (stored as a code, or the store keeps none)" : "no item has the key '\(key)'")
        }
        return Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: try image.pngData())))
    }

    /// `POST /search?k=10`: the body is an image; or `POST /search?code=HEX&k=10` without one.
    /// `radius=R` instead of `k` returns every item within R bits; `mirror=true` (images only)
    /// also matches mirrored copies; `copies=true` (images with `k` only) gives near-ties of the
    /// refined similarity to an item whose kept thumbnail is a copy of the query's in pixels
    /// (`Refinement.Options.photoNearTieBand`: re-saved, brightened, cropped and captioned
    /// photographs found first more often, about 1 ms more a search).
    func search(_ request: Request) async throws -> SearchResponse {
        let query = request.uri.queryParameters
        let k = try query.get("k").map { try positive($0, "k") } ?? 10
        let radius = try query.get("radius").map { try positive($0, "radius", allowZero: true) }
        let mirror = try flag(query.get("mirror"), "mirror")
        let copies = try flag(query.get("copies"), "copies")
        if copies && radius != nil {
            throw HTTPError(.badRequest, message: "copies=true orders the k nearest; a radius search returns every item within the radius in the order of their similarity: give k instead")
        }
        let result: StoreSearchResult
        if let hex = query.get("code") {
            let code: BinaryCode
            do { code = try BinaryCode(hex: hex) } catch {
                throw HTTPError(.badRequest, message: "code=\(hex.prefix(80)) is not a hexadecimal code: \(error)")
            }
            guard !mirror else {
                throw HTTPError(.badRequest, message: "mirror=true needs an image body: a code has no mirror image")
            }
            guard !copies else {
                throw HTTPError(.badRequest, message: "copies=true needs an image body: a code has no thumbnail to compare")
            }
            guard code.bitCount == store.bitCount else {
                throw HTTPError(.badRequest, message: "the code has \(code.bitCount) bits; this store holds \(store.bitCount)-bit codes (\(store.bitCount / 4) hex digits)")
            }
            result = try await mapped {
                if let radius { return try await store.search(code: code, radius: radius) }
                return try await store.search(code: code, k: k)
            }
        } else {
            let image = try await decodeImage(request).image
            result = try await mapped {
                if let radius { return try await store.search(image: image, radius: radius, matchingMirrorImages: mirror) }
                let refinement = copies ? Refinement.Options(nearTieBand: Refinement.Options.photoNearTieBand) : Refinement.Options()
                return try await store.search(image: image, k: k, refinement: refinement, matchingMirrorImages: mirror)
            }
        }
        return SearchResponse(result)
    }

    /// A true/false query parameter: absent, `false` or `0` is false; `true` or `1` is true.
    private func flag(_ text: String?, _ name: String) throws -> Bool {
        switch text {
        case nil, "false"?, "0"?: return false
        case "true"?, "1"?: return true
        case let other?: throw HTTPError(.badRequest, message: "\(name)=\(other.prefix(20)) must be true or false")
        }
    }

    private func positive(_ text: String, _ name: String, allowZero: Bool = false) throws -> Int {
        guard let value = Int(text), value >= (allowZero ? 0 : 1), value <= 10_000 else {
            throw HTTPError(.badRequest, message: "\(name)=\(text.prefix(20)) must be a whole number from \(allowZero ? 0 : 1) to 10000")
        }
        return value
    }

    private func decodeImage(_ request: Request) async throws -> DecodedImage {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBody)
        } catch {
            throw HTTPError(.contentTooLarge, message: "the body is larger than \(maximumBody) bytes; send a smaller image")
        }
        guard body.readableBytes > 0 else {
            throw HTTPError(.badRequest, message: "the body is empty: send an image (PNG, JPEG, PGM or PPM), or search with ?code=HEX")
        }
        do {
            return try decoder.decodeForEncoding(Array(buffer: body), source: "the request body")
        } catch let error as DatasetError where error.code == .unsupported {
            throw HTTPError(.unsupportedMediaType, message: error.message)
        } catch let error as DatasetError {
            throw HTTPError(.unprocessableContent, message: error.message)
        }
    }

    /// Library errors a client caused become 4xx answers that say what was wrong; a store that a
    /// re-encoding replaced answers 503 (restart the service to open the new one); anything else
    /// is the server's fault (500, logged).
    private func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            switch error.code {
            case .invalidKey: throw HTTPError(.badRequest, message: error.message)
            case .payloadTooLarge: throw HTTPError(.contentTooLarge, message: error.message)
            case .keyExists: throw HTTPError(.conflict, message: error.message)
            case .retired: throw HTTPError(.serviceUnavailable, message: error.message + "; restart the service to open the re-encoded store")
            default: throw error
            }
        } catch let error as DatasetError {
            throw HTTPError(.unprocessableContent, message: error.message)
        }
    }
}

struct Health: ResponseEncodable {
    var status: String
    var items: Int
    var bits: Int
}

struct Item: ResponseEncodable {
    var key: String
    var code: String
    var payload: String
}

struct Stored: ResponseEncodable {
    var key: String
    var code: String?
    var created: Bool
}

/// Hits with their payload as text (what `X-Payload` stored), and the search's statistics.
struct SearchResponse: ResponseEncodable {
    struct Hit: Codable {
        var key: String
        var distance: Int
        var score: Float?
        var payload: String
    }

    var hits: [Hit]
    var statistics: SearchStatistics

    init(_ result: StoreSearchResult) {
        hits = result.hits.map { Hit(key: $0.key, distance: $0.distance, score: $0.score, payload: String(decoding: $0.payload, as: UTF8.self)) }
        statistics = result.statistics
    }
}
