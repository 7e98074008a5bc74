import Dispatch
import Foundation
import Synchronization

/// Turns Ctrl-C (SIGINT) into a flag a long loop checks between steps, so it can save its work
/// and stop cleanly; a second Ctrl-C while the flag is set ends the process at once.
final class InterruptFlag {
    private final class Shared: Sendable {
        let value = Atomic<Bool>(false)
    }

    private let shared = Shared()
    private let source: DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [shared] in
            if shared.value.exchange(true, ordering: .relaxed) {
                Console.log("second interrupt: stopping now")
                exit(130)
            }
            Console.log("interrupt: finishing the current step…")
        }
        source.resume()
    }

    var isSet: Bool { shared.value.load(ordering: .relaxed) }

    /// ``isSet`` as a closure another thread may call.
    var check: @Sendable () -> Bool { { [shared] in shared.value.load(ordering: .relaxed) } }

    /// Gives SIGINT back its default action.
    func restore() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
