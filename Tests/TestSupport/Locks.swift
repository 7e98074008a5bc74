import Foundation

/// A counter threads can bump.
public final class LockedCounter: @unchecked Sendable {
    public init() {}
    private let lock = NSLock()
    private var count = 0
    public func increment() { lock.withLock { count += 1 } }
    public func add(_ amount: Int) { lock.withLock { count += amount } }
    public var value: Int { lock.withLock { count } }
}

/// A flag one thread raises and others watch.
public final class LockedFlag: @unchecked Sendable {
    public init() {}
    private let lock = NSLock()
    private var flag = false
    public func set() { lock.withLock { flag = true } }
    public func clear() { lock.withLock { flag = false } }
    public var value: Bool { lock.withLock { flag } }
}

/// A value one thread writes and another reads.
public final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    public init(_ value: Value) { stored = value }
    public var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
