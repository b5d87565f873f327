import Foundation
import Testing
import VirtAPI
import VirtError

@testable import VirtQEMU

/// The golden cases in `Golden/`: `NAME.vmi.json` (a KubeVirt VMI, as `kubectl apply` takes it),
/// `NAME.context.json` (what the node agent prepared) and `NAME.args` (the expected command line: the
/// executable, then one argument per line).
///
/// Set `SWIFTVIRT_UPDATE_GOLDEN=1` to rewrite the `.args` files from the converter's current output,
/// then review the diff.
enum Golden {
    /// The source directory (not the copied bundle), so regenerated files land in the repository.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden").path
    static let updating = ProcessInfo.processInfo.environment["SWIFTVIRT_UPDATE_GOLDEN"] == "1"

    static var cases: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".vmi.json") }.map { String($0.dropLast(".vmi.json".count)) }.sorted()
    }

    static func path(_ name: String, _ suffix: String) -> String { "\(directory)/\(name)\(suffix)" }

    /// The VMI of a case, decoded strictly: a field the typed kinds do not know fails the test.
    static func vmi(_ name: String) throws -> VirtualMachineInstance {
        let text = try String(contentsOfFile: path(name, ".vmi.json"), encoding: .utf8)
        let decoded = try decodeTracking(VirtualMachineInstance.self, from: try JSONValue.parse(text))
        #expect(decoded.unknownFields.isEmpty, "\(name).vmi.json has fields SwiftVirt does not know: \(decoded.unknownFields)")
        return decoded.value
    }

    static func context(_ name: String) throws -> LaunchContext {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(name, ".context.json")))
        return try JSONDecoder().decode(LaunchContext.self, from: data)
    }

    static func render(_ command: QEMUCommand) -> String {
        ([command.executable] + command.arguments).joined(separator: "\n") + "\n"
    }
}

@Suite struct GoldenTests {
    @Test func thereAreSixToTenCases() {
        #expect((6...10).contains(Golden.cases.count), "Golden/ holds \(Golden.cases)")
    }

    @Test(arguments: Golden.cases)
    func commandLineMatchesGolden(name: String) throws {
        let command = try QEMUCommand.build(vmi: try Golden.vmi(name), context: try Golden.context(name))
        let actual = Golden.render(command)
        for argument in command.arguments {
            #expect(!argument.contains("\n"), "an argument spans lines, which the golden format cannot show: \(argument)")
        }
        let file = Golden.path(name, ".args")
        if Golden.updating {
            try actual.write(toFile: file, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOfFile: file, encoding: .utf8)
        if actual != expected {
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }
            let detail = first.map { "line \($0.offset + 1): expected \"\($0.element.1)\", got \"\($0.element.0)\"" }
                ?? "expected \(e.count) lines, got \(a.count)"
            Issue.record("\(name).args differs (\(detail)); if the change is intended, run with SWIFTVIRT_UPDATE_GOLDEN=1 and review the diff")
        }
    }

    @Test(arguments: Golden.cases)
    func contextSurvivesJSON(name: String) throws {
        let context = try Golden.context(name)
        let data = try JSONEncoder().encode(context)
        #expect(try JSONDecoder().decode(LaunchContext.self, from: data) == context)
    }
}

/// Every golden command line, with its paths moved into a scratch directory and under TCG, is accepted
/// by the real QEMU: it starts, serves QMP, and has every disk and NIC under the expected device id.
@Suite(.serialized) struct GoldenQEMUTests {
    /// Debian's OVMF (package `ovmf`): Secure Boot code and a variable store with Microsoft's keys.
    static let ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
    static let ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"
    static var ovmfInstalled: Bool { FileManager.default.fileExists(atPath: ovmfCode) }
    /// The cases that boot UEFI.
    static let uefiCases: Set<String> = ["efi-secureboot"]

    @Test(arguments: Golden.cases.filter { !GoldenQEMUTests.uefiCases.contains($0) })
    func realQEMUAcceptsTheCommandLine(name: String) async throws {
        try await accept(name)
    }

    @Test(arguments: GoldenQEMUTests.uefiCases.sorted())
    func realQEMUAcceptsTheUEFICommandLine(name: String) async throws {
        try await accept(name)
    }

    func accept(_ name: String) async throws {
        let vmi = try Golden.vmi(name)
        var context = try Golden.context(name)
        if context.kernelPath != nil { try TestGuest.require() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }

        context.accelerator = .tcg
        context.qmpSocketPath = scratch.file("qmp.sock")
        if context.serialSocketPath != nil { context.serialSocketPath = scratch.file("serial.sock") }
        if context.serialLogPath != nil { context.serialLogPath = scratch.file("serial.log") }
        if context.vncSocketPath != nil { context.vncSocketPath = scratch.file("vnc.sock") }
        if context.kernelPath != nil { context.kernelPath = TestGuest.kernel }
        if context.initrdPath != nil { context.initrdPath = TestGuest.initrd }
        for key in context.interfaces.keys { context.interfaces[key] = .user }
        if let efi = context.efi {
            try FileManager.default.copyItem(atPath: Self.ovmfVars, toPath: scratch.file("vars.fd"))
            context.efi = LaunchContext.EFIFirmware(codePath: Self.ovmfCode, varsPath: scratch.file("vars.fd"), secureBoot: efi.secureBoot)
        }
        var loops: [String] = []
        defer { for device in loops { _ = try? losetup(["--detach", device]) } }
        for (i, (key, disk)) in context.disks.sorted(by: { $0.key < $1.key }).enumerated() {
            let file = scratch.file("disk\(i).\(disk.format.rawValue)")
            try createImage(file, format: disk.format)
            context.disks[key]?.path = file
            context.disks[key]?.directIO = false
            if disk.blockDevice {
                // A Block volume: QEMU opens a real loop device with host_device.
                let device = try losetup(["--find", "--show", file])
                loops.append(device)
                context.disks[key]?.path = device
            }
        }
        // tmpfs has no O_DIRECT: keep the cache modes the goldens ask for from failing there.
        var spec = vmi.spec
        for i in (spec.domain.devices.disks ?? []).indices where spec.domain.devices.disks?[i].cache == "none" {
            spec.domain.devices.disks?[i].cache = "writeback"
            if spec.domain.devices.disks?[i].io == "native" { spec.domain.devices.disks?[i].io = "threads" }
        }
        context.startPaused = true

        let command = try QEMUCommand.build(spec: spec, guestName: name, context: context)
        let qemu = try QEMUProcess.launch(command, logPath: scratch.file("qemu.log"))
        do {
            let qmp = try await QMPClient.connect(to: context.qmpSocketPath, timeout: .seconds(20))
            let status = try await qmp.queryStatus()
            #expect(!status.running)
            #expect(status.status == (context.incoming ? "inmigrate" : "prelaunch"))

            let peripherals = try await qmp.execute("qom-list", arguments: ["path": "/machine/peripheral"])
            let ids = Set(peripherals.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
            for disk in spec.domain.devices.disks ?? [] {
                #expect(ids.contains(QEMUNames.deviceID(disk.name)), "disk \(disk.name) is not a QEMU device; devices: \(ids.sorted())")
            }
            for iface in spec.domain.devices.interfaces ?? [] {
                #expect(ids.contains(QEMUNames.deviceID(iface.name)), "interface \(iface.name) is not a QEMU device; devices: \(ids.sorted())")
            }
            try await qmp.quit()
            #expect(await qemu.waitForExit(timeout: .seconds(10)), "QEMU did not exit after quit")
            qmp.close()
        } catch {
            await qemu.stop()
            Issue.record("QEMU log:\n\(qemu.log)")
            throw error
        }
        await qemu.stop()
    }

    /// Runs `losetup` and returns what it printed.
    func losetup(_ arguments: [String]) throws -> String {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/losetup")
        process.arguments = arguments
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "losetup \(arguments.joined(separator: " ")) failed")
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func createImage(_ path: String, format: LaunchContext.PreparedDisk.Format) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try QEMUProcess.executablePath("qemu-img"))
        process.arguments = ["create", "-q", "-f", format.rawValue, path, "64M"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "qemu-img create \(path) failed")
    }
}
