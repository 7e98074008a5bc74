import CMalloc

/// glibc's allocator settings for a process that ingests images in bulk (`bgan-db ingest` calls
/// it; a service that mostly ingests may too). Each image costs a few blocks of megabytes —
/// the file's bytes, its entropy-coded data, the decoded planes — and with glibc's defaults such
/// blocks are mapped from the kernel and unmapped again as soon as they are freed, or trimmed off
/// the heap's top, so every image pays hundreds of page faults of fresh zeroed memory: 17 % of
/// ingesting 12-megapixel JPEGs (96 against 81 images/s, docs/benchmarks.md "Camera-sized JPEGs").
/// Blocks under 32 MB come from the heap instead and up to 128 MB of free heap is kept; resident
/// memory stays bounded by the pipeline's batches (139 MB on that folder).
/// Process-wide: call once, before ingesting; it changes how every later allocation is served.
public enum HeapTuning {
    public static func keepImageSizedBlocks() {
        mallopt(M_MMAP_THRESHOLD, 32 << 20)
        mallopt(M_TRIM_THRESHOLD, 128 << 20)
    }
}
