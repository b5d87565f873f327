// SwiftVirt API benchmark: VM creates over HTTPS against the raw store, and watch delivery latency.
// Every figure is printed beside its baseline measured in the same run.
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization
import VirtAPI
import VirtAPIServer
import VirtStore

func vmBody(_ name: String) -> JSONValue {
    [
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
        "metadata": ["name": .string(name), "labels": ["bench": "yes"]],
        "spec": [
            "runStrategy": "Halted",
            "template": ["spec": [
                "domain": ["devices": ["disks": [["name": "root", "disk": ["bus": "virtio"]]]], "memory": ["guest": "128Mi"]],
                "volumes": [["name": "root", "containerDisk": ["image": "/var/lib/swiftvirt/guest/disk.qcow2"]]],
            ]],
        ],
    ]
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

/// CPU time (user + system) this process has used so far, in microseconds.
func cpuMicroseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
}

func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
func fmt(_ v: Double) -> String { String(format: "%.2f", v) }

let arguments = CommandLine.arguments
// `VirtBench clone SOURCE TARGET [SIZE]`: one clone as the node agent makes it (bench/import_bench.py times it).
if arguments.dropFirst().first == "clone" { exit(runClone(Array(arguments.dropFirst(2)))) }
let total = Int(arguments.dropFirst().first ?? "") ?? 10_000
let clients = 8
let clock = ContinuousClock()
let dir = NSTemporaryDirectory() + "swiftvirt-bench-\(UUID().uuidString)"
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

/// Removes the stores and credentials, then exits.
func finish() -> Never {
    try? FileManager.default.removeItem(atPath: dir)
    exit(0)
}

// 0. Admission on its own, one thread: defaults, then the typed decode with unknown-field tracking and
// validation, as a create runs them.
var admitted = vmBody("admission")
admitted[path: ["metadata", "namespace"]] = "default"
Admission.applyDefaults(group: "kubevirt.io", kind: "VirtualMachine", object: &admitted)
// `VirtBench admission N`: only this part, N rounds (for profilers that count instructions).
let admissionOnly = arguments.dropFirst().first == "admission"
let admissionRounds = admissionOnly ? Int(arguments.dropFirst(2).first ?? "") ?? 1_000 : ["api", "raw"].contains(arguments.dropFirst(2).first) ? 0 : 20_000
let admissionStart = clock.now
for _ in 0..<admissionRounds {
    let review = Admission.review(group: "kubevirt.io", kind: "VirtualMachine", object: admitted, old: nil)
    precondition(review.causes.isEmpty && review.unknownFields.isEmpty)
}
let admissionMicros = ms(clock.now - admissionStart) * 1000 / Double(admissionRounds)
if admissionOnly {
    print("admission review alone: \(fmt(admissionMicros)) µs per VirtualMachine (one thread, \(admissionRounds) rounds)")
    finish()
}

let rawStore = try SQLiteStore(path: dir + "/raw.db")
let mode = arguments.dropFirst(2).first

// The API server over HTTPS, with the daemon's own credentials.
let store = try SQLiteStore(path: dir + "/api.db")
let credentials = try ServerCredentials.loadOrCreate(dataDir: dir, hosts: ["127.0.0.1"])
let router = APIRouter(store: store, tokens: [credentials.token])
try await Bootstrap.ensureNamespaces(router.handler)
let portBox = Mutex<Int>(0)
var logger = Logger(label: "bench")
logger.logLevel = .error
let server = APIServer(configuration: .init(host: "127.0.0.1", port: 0, credentials: credentials), router: router, logger: logger) { port in
    portBox.withLock { $0 = port }
}
let serverTask = Task { try await server.run() }
while portBox.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(20)) }

var tls = TLSConfiguration.makeClientConfiguration()
tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(credentials.caPEM.utf8)))
tls.certificateVerification = .noHostnameVerification
tls.shutdownTimeout = .milliseconds(100)
let tlsContext = try NIOSSLContext(configuration: tls)
let port = portBox.withLock { $0 }
// The clients' own event loops, as clients in other processes would have. On the server's loops, each
// client connection and the server's end of it took turns in the group's round robin, so every client end
// landed on one loop and every server end on the other, and the server's work had one core of two.
let clientLoops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
let pool = BenchPool(port: port, tls: tlsContext, group: clientLoops)
let createPath = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"

/// The create body as bytes around the name: a client sends prepared JSON, as a load generator does; the
/// server still parses, checks and stores every byte of it.
let bodyParts: (prefix: [UInt8], suffix: [UInt8]) = {
    let text = vmBody("NAME-SLOT").serialized()
    let slot = text.range(of: "NAME-SLOT")!
    return (Array(text[..<slot.lowerBound].utf8), Array(text[slot.upperBound...].utf8))
}()

func post(_ name: String) async throws -> Duration {
    let body = bodyParts.prefix + Array(name.utf8) + bodyParts.suffix
    let connection = try await pool.acquire()
    let start = clock.now
    let response = try await connection.request("POST", createPath, token: credentials.token, body: body)
    let elapsed = clock.now - start
    pool.release(connection)
    guard response.status == 201 else {
        throw BenchError("create \(name): HTTP \(response.status): \(String(buffer: response.body))")
    }
    return elapsed
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

// Warm up the connections.
for i in 0..<clients { _ = try await post("warm-\(i)") }

/// The baseline's objects are the API's: a VM as the server stores it (defaults, uid, creationTimestamp,
/// generation; about 590 bytes against the 380 the client sends), each with its own name and uid.
let storedForm: JSONValue = try await {
    guard var object = try await store.get(StoreKey(resource: "kubevirt.io/virtualmachines", namespace: "default", name: "warm-0"))?.object
    else { throw BenchError("the warm-up VM is not in the API's store") }
    object[path: ["metadata", "resourceVersion"]] = nil
    return object
}()
func storedObject(_ name: String) -> JSONValue {
    var object = storedForm
    object[path: ["metadata", "name"]] = .string(name)
    object[path: ["metadata", "uid"]] = .string(ObjectUID.make())
    return object
}

// 1. Baseline: the same objects written straight into a store in-process, 8 concurrent writers; then
// 2. the API server over HTTPS. The two alternate in five rounds of total/5 creates each, so that a slow
// spell of this shared machine falls on both and not on one of them.
/// Elapsed seconds and CPU microseconds of one phase, summed over the rounds.
struct PhaseTotals {
    var seconds = 0.0
    var cpu = 0.0
}

func measured(_ body: () async throws -> Void) async rethrows -> PhaseTotals {
    let start = clock.now
    let cpuStart = cpuMicroseconds()
    try await body()
    return PhaseTotals(seconds: ms(clock.now - start) / 1000, cpu: cpuMicroseconds() - cpuStart)
}

let rounds = 5
var raw = PhaseTotals()
var api = PhaseTotals()
let latencies = Mutex<[Double]>([])
for round in 0..<rounds {
    let range = (total * round / rounds)..<(total * (round + 1) / rounds)
    if mode != "api" {
        let phase = try await measured {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for c in 0..<clients {
                    group.addTask {
                        for i in stride(from: range.lowerBound + c, to: range.upperBound, by: clients) {
                            _ = try await rawStore.create(
                                StoreKey(resource: "kubevirt.io/virtualmachines", namespace: "default", name: "vm-\(i)"),
                                object: storedObject("vm-\(i)"))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        raw.seconds += phase.seconds
        raw.cpu += phase.cpu
    }
    if mode != "raw" {
        let phase = try await measured {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for c in 0..<clients {
                    group.addTask {
                        let names = stride(from: range.lowerBound + c, to: range.upperBound, by: clients).map { "vm-\($0)" }
                        let connection = try await pool.acquire()
                        let times = try await connection.postInSequence(createPath, token: credentials.token, names: names) { name in
                            bodyParts.prefix + Array(name.utf8) + bodyParts.suffix
                        }
                        pool.release(connection)
                        latencies.withLock { $0 += times }
                    }
                }
                try await group.waitForAll()
            }
        }
        api.seconds += phase.seconds
        api.cpu += phase.cpu
    }
}
let rawRate = Double(total) / raw.seconds
let rawCPU = raw.cpu / Double(total)
let apiRate = Double(total) / api.seconds
let apiCPU = api.cpu / Double(total)
let all = latencies.withLock { $0 }
if mode == "raw" {
    print("raw \(fmt(rawRate))/s \(Int(rawCPU)) µs CPU")
    finish()
}

// 3. Paced creates at 500/s: latency when the server is not saturated. 16 senders, each on its own
// schedule (open loop: a late reply does not delay the next send), over reused connections.
// `VirtBench N creates`: only the create phases above; `VirtBench N api` or `raw`: only one (for profilers).
if mode == "creates" || mode == "api" {
    print("raw \(fmt(rawRate))/s \(Int(rawCPU)) µs CPU; API \(fmt(apiRate))/s \(Int(apiCPU)) µs CPU = \(fmt(apiRate / rawRate))x")
    finish()
}

let pacedCount = min(2_500, total / 2)
let paced = Mutex<[Double]>([])
let pacedStart = clock.now
let senders = 16
try await withThrowingTaskGroup(of: Void.self) { group in
    for s in 0..<senders {
        group.addTask {
            try await withThrowingTaskGroup(of: Void.self) { inner in
                for i in stride(from: s, to: pacedCount, by: senders) {
                    let due = pacedStart + .microseconds(i * 2_000)
                    try await Task.sleep(until: due, clock: clock)
                    inner.addTask {
                        let d = try await post("paced-\(i)")
                        paced.withLock { $0.append(ms(d)) }
                    }
                }
                try await inner.waitForAll()
            }
        }
    }
    try await group.waitForAll()
}
let pacedValues = paced.withLock { $0 }

print("SwiftVirt API benchmark (\(total) VirtualMachine creates, \(clients) concurrent clients, HTTPS)")
print("  raw store (in-process):   \(fmt(rawRate)) creates/s, \(Int(rawCPU)) µs CPU per create")
print("  API server (HTTPS):       \(fmt(apiRate)) creates/s  = \(fmt(apiRate / rawRate))x raw   (target >= 0.5x), \(Int(apiCPU)) µs CPU per create (server and its in-process clients)")
print("  admission review alone:   \(fmt(admissionMicros)) µs per VirtualMachine (one thread)")
print("  API create latency:       p50 \(fmt(percentile(all, 0.5))) ms, p99 \(fmt(percentile(all, 0.99))) ms (saturated)")
print("  paced 500 creates/s:      p50 \(fmt(percentile(pacedValues, 0.5))) ms, p99 \(fmt(percentile(pacedValues, 0.99))) ms (target p99 <= 20 ms)")

// 4. Watch delivery: N watchers, then creates; time from the create's send to each watcher's receipt.
func watchRound(watchers: Int, events: Int) async throws -> (delays: [Double], cpuPerDelivery: Double) {
    let startRV = try await store.currentRevision()
    let shared = WatchRound()
    let path = createPath + "?watch=1&resourceVersion=\(startRV)&fieldSelector=metadata.namespace%3Ddefault"
    var channels: [any Channel] = []
    for _ in 0..<watchers {
        channels.append(try await WatchRecorder.open(
            port: port, path: path, token: credentials.token, tls: tlsContext, group: clientLoops,
            onHead: { status in shared.ready.withLock { $0 += status == 200 ? 1 : 0 } },
            onName: { name, now in
                if let start = shared.sent.withLock({ $0[name] }) { shared.delays.withLock { $0.append(ms(now - start)) } }
            }))
    }
    while shared.ready.withLock({ $0 }) < watchers { try await Task.sleep(for: .milliseconds(20)) }
    try await Task.sleep(for: .milliseconds(200))
    let cpuStart = cpuMicroseconds()
    for i in 0..<events {
        let name = "watch-\(watchers)-\(i)"
        shared.sent.withLock { $0[name] = clock.now }
        _ = try await post(name)
        try await Task.sleep(for: .milliseconds(100))
    }
    let deadline = clock.now + .seconds(30)
    while shared.delays.withLock({ $0.count }) < watchers * events, clock.now < deadline {
        try await Task.sleep(for: .milliseconds(20))
    }
    let cpu = cpuMicroseconds() - cpuStart
    for channel in channels { channel.close(promise: nil) }
    let delays = shared.delays.withLock { $0 }
    return (delays, cpu / Double(max(delays.count, 1)))
}

/// State the watcher tasks of one round share.
final class WatchRound: Sendable {
    let sent = Mutex<[String: ContinuousClock.Instant]>([:])
    let delays = Mutex<[Double]>([])
    let ready = Mutex(0)
}

for watchers in [100, 1000] {
    let (delays, cpu) = try await watchRound(watchers: watchers, events: 10)
    print("  watch delivery, \(watchers) watchers: p50 \(fmt(percentile(delays, 0.5))) ms, p99 \(fmt(percentile(delays, 0.99))) ms over \(delays.count) deliveries, \(Int(cpu)) µs CPU each (target p99 <= 50 ms; baseline: the create itself, p50 \(fmt(percentile(all, 0.5))) ms)")
}

pool.closeAll()
serverTask.cancel()
finish()
