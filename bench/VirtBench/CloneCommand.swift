import Foundation
import VirtOS

/// `VirtBench clone SOURCE TARGET [SIZE]`: clones SOURCE to TARGET with ``FileClone`` (the node agent's
/// `cp --reflink=auto`: FICLONE, else a copy of the data extents; grown to SIZE bytes, synced, renamed) and
/// prints `{"method": …, "bytes": …, "seconds": …}` (the clone alone, without the process start); `--no-reflink` forces the copy. Exit 1 with the failure on stderr.
func runClone(_ arguments: [String]) -> Int32 {
    let reflink = !arguments.contains("--no-reflink")
    let positional = arguments.filter { !$0.hasPrefix("--") }
    guard positional.count >= 2 else {
        FileHandle.standardError.write(Data("usage: VirtBench clone SOURCE TARGET [SIZE] [--no-reflink]\n".utf8))
        return 2
    }
    let size = positional.count > 2 ? Int64(positional[2]) ?? 0 : 0
    do {
        let start = ContinuousClock.now
        let result = try FileClone.clone(source: positional[0], target: positional[1], size: size, reflink: reflink)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(#"{"method": "\#(result.method.rawValue)", "bytes": \#(result.targetSize), "seconds": \#(seconds)}"#)
        return 0
    } catch {
        FileHandle.standardError.write(Data("clone failed: \(error.message)\n".utf8))
        return 1
    }
}
