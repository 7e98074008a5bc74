import Basics

/// Guards the memory map against being resized while this process has a transaction open.
///
/// `mdb_env_set_mapsize` may only run when no transaction of this process is active. Every
/// transaction holds this lock shared for its whole life; growing the map takes it exclusively.
/// The lock prefers writers, so a growing map is not starved by a stream of readers, and it is
/// re-entrant per thread (a thread that already holds it does not take it again, which would
/// deadlock behind a waiting writer).
final class MapLock: @unchecked Sendable {
    // Heap-allocated: pthread objects must not move, which Swift does not promise for stored properties.
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
    /// Per-thread count of transactions this thread holds on this environment.
    private var depthKey = pthread_key_t()

    init() {
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        pthread_key_create(&depthKey, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
        pthread_key_delete(depthKey)
    }

    /// How many transactions the calling thread holds.
    var depthOnThisThread: Int {
        Int(bitPattern: pthread_getspecific(depthKey))
    }

    private func setDepth(_ depth: Int) {
        pthread_setspecific(depthKey, UnsafeRawPointer(bitPattern: depth))
    }

    /// Marks the start of a transaction on this thread.
    func acquireShared() {
        let depth = depthOnThisThread
        if depth == 0 { pthread_rwlock_rdlock(lock) }
        setDepth(depth + 1)
    }

    /// Marks the end of a transaction on this thread.
    func releaseShared() {
        let depth = depthOnThisThread
        precondition(depth > 0, "MapLock released more often than acquired")
        if depth == 1 { pthread_rwlock_unlock(lock) }
        setDepth(depth - 1)
    }

    /// Runs `body` while no transaction of this process is open. Returns `nil` without running it
    /// when the calling thread itself holds a transaction (waiting would deadlock).
    func withExclusive<R>(_ body: () throws -> R) rethrows -> R? {
        guard depthOnThisThread == 0 else { return nil }
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

/// A plain mutex for short critical sections.
final class Mutex: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
