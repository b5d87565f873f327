import Foundation
import Testing
import VirtAPI
import VirtError

@testable import VirtQEMU

/// The converter's command line boots the project's test guest under TCG (kernelBoot, serial console
/// on a unix socket), and QMP drives it.
@Suite(.serialized) struct GuestBootTests {
    /// The `tiny-kernelboot` golden VMI with a context pointing at real files in `scratch`.
    static func tinyGuest(_ scratch: ScratchDirectory, startPaused: Bool = false) throws -> QEMUCommand {
        try TestGuest.require()
        var context = try Golden.context("tiny-kernelboot")
        context.qmpSocketPath = scratch.file("qmp.sock")
        context.serialSocketPath = scratch.file("serial.sock")
        context.serialLogPath = scratch.file("serial.log")
        context.kernelPath = TestGuest.kernel
        context.initrdPath = TestGuest.initrd
        context.startPaused = startPaused
        return try QEMUCommand.build(vmi: try Golden.vmi("tiny-kernelboot"), context: context)
    }

    /// `counter: N` values in the serial output, in order.
    static func counters(_ text: String) -> [Int] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            guard let range = line.range(of: "counter: ") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func kernelBootReachesTheCounterAndPowersOff() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let command = try Self.tinyGuest(scratch)
        let qemu = try QEMUProcess.launch(command, logPath: scratch.file("qemu.log"))
        var serial: SocketCollector?
        do {
            let client = try await QMPClient.connect(to: scratch.file("qmp.sock"), timeout: .seconds(20))
            let running = ContinuousClock.now - qemu.started
            let status = try await client.queryStatus()
            #expect(status.running && status.status == "running")
            serial = try await SocketCollector(path: scratch.file("serial.sock"), timeout: .seconds(10))
            let console = try #require(serial)

            // Three increasing counter lines: the guest booted to userspace and keeps running.
            let counting = await console.wait(timeout: .seconds(90)) { text in
                let values = Self.counters(text)
                return values.count >= 3 && zip(values, values.dropFirst()).allSatisfy { $0 < $1 }
            }
            let booted = ContinuousClock.now - qemu.started
            #expect(counting, "no increasing counter lines on the serial console within 90 s; console:\n\(console.text.suffix(2000))")
            print("tiny guest under TCG: exec → QMP running \(running), exec → 3 counter lines \(booted)")
            #expect(console.text.contains("swiftvirt-guest: hostname="))

            // The serial log file gets the same output.
            let log = (try? String(contentsOfFile: scratch.file("serial.log"), encoding: .utf8)) ?? ""
            #expect(log.contains("counter: "), "serial log: \(log.suffix(500))")

            // Pause: the counter stops; resume: it goes on.
            try await client.stop()
            #expect(try await client.queryStatus().status == "paused")
            let pausedAt = Self.counters(console.text).last ?? 0
            try await Task.sleep(for: .seconds(2))
            #expect((Self.counters(console.text).last ?? 0) <= pausedAt + 1, "the counter kept going while paused")
            try await client.cont()
            let resumed = await console.wait(timeout: .seconds(30)) { (Self.counters($0).last ?? 0) > pausedAt + 1 }
            #expect(resumed, "the counter did not go on after cont")

            // ACPI power button: the guest shuts down cleanly and QEMU exits by itself.
            try await client.systemPowerdown()
            let exited = await qemu.waitForExit(timeout: .seconds(60))
            #expect(exited, "QEMU did not exit after system_powerdown; console:\n\(console.text.suffix(1500))")
            #expect(console.text.contains("swiftvirt-guest: shutting down"))
            client.close()
        } catch {
            serial?.close()
            await qemu.stop()
            Issue.record("QEMU log:\n\(qemu.log)")
            throw error
        }
        serial?.close()
        await qemu.stop()
    }

    /// Time from exec to QMP reporting `running`, for the converter's tiny-guest command line, in both
    /// ways the agent can start a VM: running at once, or paused (`-S`) and then `cont`.
    @Test(.timeLimit(.minutes(3)))
    func timeFromExecToRunning() async throws {
        let runs = Int(ProcessInfo.processInfo.environment["SWIFTVIRT_QEMU_TIMING_RUNS"] ?? "") ?? 10
        var direct: [Duration] = []
        var paused: [Duration] = []
        for i in 0..<(2 * runs) {
            let startPaused = i % 2 == 1
            let scratch = try ScratchDirectory()
            defer { scratch.remove() }
            let qemu = try QEMUProcess.launch(try Self.tinyGuest(scratch, startPaused: startPaused), logPath: scratch.file("qemu.log"))
            do {
                let client = try await QMPClient.connect(to: scratch.file("qmp.sock"), timeout: .seconds(20))
                if startPaused { try await client.cont() }
                var status = try await client.queryStatus()
                while !status.running {
                    try await Task.sleep(for: .milliseconds(1))
                    status = try await client.queryStatus()
                }
                let elapsed = ContinuousClock.now - qemu.started
                if startPaused { paused.append(elapsed) } else { direct.append(elapsed) }
                try await client.quit()
                _ = await qemu.waitForExit(timeout: .seconds(10))
            } catch {
                await qemu.stop()
                Issue.record("QEMU log:\n\(qemu.log)")
                throw error
            }
            await qemu.stop()
        }
        func summary(_ samples: [Duration]) -> String {
            let ms = samples.map { Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15 }.sorted()
            func pick(_ q: Double) -> Double { ms[min(ms.count - 1, Int((Double(ms.count) * q).rounded(.up)) - 1)] }
            return String(format: "p50 %.1f ms, p95 %.1f ms, min %.1f ms, max %.1f ms (n=%d)", pick(0.5), pick(0.95), ms[0], ms[ms.count - 1], ms.count)
        }
        print("exec → QMP running (TCG, tiny guest): direct: \(summary(direct)); -S + cont: \(summary(paused))")
        // How fast is the benchmark's to say (bench/vm_bench.py); here: every start reached running.
        #expect(direct.count == runs && paused.count == runs)
    }
}
