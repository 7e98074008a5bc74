import CLMDB
import Testing
@testable import LMDBStorage

/// LMDB's failures map to codes whose remedies fit them.
@Suite struct ReturnCodeTests {
    @Test func aPanicAsksForAReopenNotARestore() {
        let panic = StorageError.from(MDB_PANIC, operation: "commit", path: "/data/s")
        #expect(panic.code == .panicked && panic.returnCode == MDB_PANIC)
        #expect(panic.message.contains("open it again") && !panic.message.contains("backup"), "\(panic.message)")
        for damaged in [MDB_CORRUPTED, MDB_PAGE_NOTFOUND] {
            let error = StorageError.from(damaged, operation: "get", path: "/data/s")
            #expect(error.code == .corrupted && error.message.contains("restore it from a backup"))
        }
        #expect(StorageError.from(MDB_MAP_FULL, operation: "put", path: "/data/s").code == .mapFull)
        #expect(StorageError.from(12345, operation: "put", path: "/data/s").code == .other)
    }
}
