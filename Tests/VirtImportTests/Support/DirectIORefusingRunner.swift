import Foundation
import VirtOS

/// A `CommandRunner` that answers a `qemu-img convert` asked to write with O_DIRECT (`-t none`) as
/// qemu-img does on a filesystem that refuses O_DIRECT, and runs every other command for real.
struct DirectIORefusingRunner: CommandRunner {
    private let forward: any CommandRunner = ProcessRunner()

    func run(_ executable: String, _ arguments: [String], environment: [String: String]?, input: [UInt8]?) async throws -> CommandResult {
        if arguments.first == "convert", let flag = arguments.firstIndex(of: "-t"), arguments.dropFirst(flag + 1).first == "none",
            let target = arguments.last
        {
            return CommandResult(exitCode: 1, stderr: Array("qemu-img: \(target): Could not open '\(target)': filesystem does not support O_DIRECT\n".utf8))
        }
        return try await forward.run(executable, arguments, environment: environment, input: input)
    }
}
