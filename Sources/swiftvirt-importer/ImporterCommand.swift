import ArgumentParser
import Foundation
import VirtImport

/// `swiftvirt-importer`: fills one volume from an http(s) image (`--url`), a local file or standard input
/// (`--file PATH|-`: the disk the node agent found in a registry image, or an upload), or makes it blank,
/// as CDI's importer pod does. The node agent runs it beside the volume; the benchmark runs it directly.
///
/// Exit status 0 when the image is complete (its marker written), 75 (EX_TEMPFAIL) when a retry may
/// help, 1 otherwise; the error's reason and message are on standard error.
@main
struct ImporterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftvirt-importer", abstract: "Import a disk image from an http(s) URL, a file or standard input into a raw file or block device.")

    @Option(help: "The image URL (http:// or https://).") var url: String?
    @Option(help: "A local image file to import instead of a URL, or - for standard input (read once, front to back).") var file: String?
    @Option(help: "Where --file's bytes came from, recorded in the marker (e.g. docker://registry/repo:tag).") var origin: String?
    @Flag(help: "Make an empty raw disk of --size instead of downloading (CDI's blank source).") var blank = false
    @Option(help: "The raw file to create, or the block device to write.") var target: String
    @Option(help: "The volume's size in bytes; the disk is grown to it, never shrunk.") var size: Int64?
    @Option(help: "Expected checksum of the download, ALGORITHM:HEX (md5, sha1, sha256, sha512).") var checksum: String?
    @Option(help: "Basic-auth user name.") var username: String?
    @Option(help: "Basic-auth password (or the environment variable SWIFTVIRT_IMPORT_PASSWORD).") var password: String?
    @Option(help: "An extra request header, 'Name: value' (repeatable).") var header: [String] = []
    @Option(help: "A PEM file of CA certificates to trust besides the system's.") var caBundle: String?
    @Flag(help: "Accept any server certificate.") var insecureSkipVerify = false
    @Option(help: "Directory for the scratch file of formats that need random access.") var scratchDirectory: String?
    @Option(help: "The completion marker's path (default: TARGET.complete).") var marker: String?
    @Flag(help: "Print progress lines (NN.NN%) on standard error.") var progress = false

    func run() async throws {
        do {
            let importTarget = ImportTarget(path: target, requestedSize: size, scratchDirectory: scratchDirectory, markerPath: marker)
            if blank {
                let result = try DiskImporter().makeBlank(into: importTarget)
                print(#"{"format":"raw","compression":null,"imageSize":\#(result.imageSize),"targetSize":\#(result.targetSize),"downloadedBytes":0,"usedScratch":false}"#)
                return
            }
            let printProgress = progress
            let report: @Sendable (ImportProgress) -> Void = { update in
                if printProgress { FileHandle.standardError.write(Data("progress \(update)\n".utf8)) }
            }
            let result: ImportResult
            if let file {
                result = try await DiskImporter().importImage(from: try makeFileSource(file), into: importTarget, progress: report)
            } else {
                result = try await DiskImporter().importImage(from: try makeSource(), into: importTarget, progress: report)
            }
            let compression = result.compression.map { "\"\($0)\"" } ?? "null"
            print(
                #"{"format":"\#(result.format)","compression":\#(compression),"imageSize":\#(result.imageSize),"targetSize":\#(result.targetSize),"downloadedBytes":\#(result.downloadedBytes),"usedScratch":\#(result.usedScratch)}"#
            )
        } catch let error as ImportError {
            FileHandle.standardError.write(Data("\(error.reason): \(error)\n".utf8))
            throw ExitCode(error.isRetryable ? 75 : 1)
        }
    }

    func validate() throws {
        let given = [url != nil ? "--url" : nil, file != nil ? "--file" : nil, blank ? "--blank" : nil].compactMap { $0 }
        guard given.count == 1 else {
            throw ValidationError(given.isEmpty ? "give one source: --url, --file or --blank" : "give one source, not \(given.joined(separator: " and "))")
        }
        if file != nil, username != nil || !header.isEmpty || caBundle != nil || insecureSkipVerify {
            throw ValidationError("--username, --header, --ca-bundle and --insecure-skip-verify apply to --url only, not --file")
        }
    }

    private func makeFileSource(_ path: String) throws -> FileImportSource {
        var source = FileImportSource(path: path, origin: origin)
        if let checksum { source.checksum = try ImportChecksum(checksum) }
        return source
    }

    private func makeSource() throws -> HTTPImportSource {
        guard let url else { throw ValidationError("--url is required (or --file, or --blank)") }
        var source = HTTPImportSource(url: url, insecureSkipVerify: insecureSkipVerify)
        if let checksum { source.checksum = try ImportChecksum(checksum) }
        if let username {
            let secret = password ?? ProcessInfo.processInfo.environment["SWIFTVIRT_IMPORT_PASSWORD"] ?? ""
            source.credentials = .init(username: username, password: secret)
        }
        for line in header {
            guard let colon = line.firstIndex(of: ":") else { throw ValidationError("--header \(line): expected 'Name: value'") }
            source.headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        if let caBundle {
            guard let pem = FileManager.default.contents(atPath: caBundle) else { throw ValidationError("cannot read --ca-bundle \(caBundle)") }
            source.caBundlePEM = String(decoding: pem, as: UTF8.self)
        }
        return source
    }
}
