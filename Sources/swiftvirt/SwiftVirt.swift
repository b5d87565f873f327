import Foundation
import VirtCommands

/// The `swiftvirt` executable: everything lives in `VirtCommands`.
@main
struct SwiftVirtMain {
    static func main() async {
        let code = await SwiftVirtCommand.run(arguments: Array(CommandLine.arguments.dropFirst()))
        exit(code)
    }
}
