import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import VirtAPI
import VirtError

extension NodeEndpoint {
    /// `POST /v1/namespaces/NS/persistentvolumeclaims/NAME/upload`: the image of an upload (the API server's
    /// upload proxy streams it here), piped into the importer as it arrives, never collected.
    ///
    /// The client connection reads only while the pipe takes the bytes (at most `highWater` wait in it), so
    /// a slow conversion slows the upload instead of filling memory. The end of the body closes the pipe and
    /// the answer waits for the importer: 200 once the image is complete, else the failure as a `Status`. A
    /// connection that ends before the body does kills the importer, so a cut-off image never gets its
    /// marker; the claim stays ready for the next upload. Touched on the connection's event loop only.
    final class UploadReceiver: @unchecked Sendable {
        let context: ChannelHandlerContext
        let uploads: VolumeUploadHandler
        let namespace: String
        let name: String
        private var pipe: (any Channel)?
        private var upload: RunningUpload?
        /// Parts that came before the pipe was open.
        private var pending: [ByteBuffer] = []
        private var waitingBytes = 0
        private var paused = false
        private var ended = false
        /// The import stopped taking bytes or the answer is decided: the rest is dropped.
        private var finished = false
        static let highWater = 1 << 20
        static let lowWater = 256 << 10

        /// The claim an upload path names, or nil for another path.
        static func claim(of uri: String) -> (namespace: String, name: String)? {
            let parts = (uri.split(separator: "?").first ?? "").split(separator: "/").map(String.init)
            guard parts.count == 6, parts[0] == "v1", parts[1] == "namespaces", parts[3] == "persistentvolumeclaims", parts[5] == "upload"
            else { return nil }
            return (parts[2], parts[4])
        }

        init(context: ChannelHandlerContext, uploads: VolumeUploadHandler, namespace: String, name: String) {
            self.context = context
            self.uploads = uploads
            self.namespace = namespace
            self.name = name
        }

        /// Starts the importer and opens the pipe to it; the client is not read from meanwhile.
        func start() {
            pause()
            let upload: RunningUpload
            do {
                upload = try uploads.begin(namespace: namespace, name: name)
            } catch {
                finish(error)
                return
            }
            self.upload = upload
            NIOPipeBootstrap(group: context.eventLoop).takingOwnershipOfDescriptor(output: upload.descriptor).hop(to: context.eventLoop)
                .whenComplete { result in
                    switch result {
                    case .success(let channel):
                        self.pipe = channel
                        for part in self.pending { self.write(part) }
                        self.pending = []
                        if self.ended {
                            self.closePipeAndAnswer()
                        } else {
                            self.resumeIfDrained()
                        }
                    case .failure(let error):
                        upload.kill()
                        self.finish(VirtError(.internal, "cannot write to the importer: \(error)"))
                    }
                }
        }

        func receive(_ part: ByteBuffer) {
            guard !finished else { return }
            guard pipe != nil else {
                pending.append(part)
                return
            }
            write(part)
        }

        func end() {
            ended = true
            guard !finished, pipe != nil else { return }
            closePipeAndAnswer()
        }

        /// The client went away before the end of the body: what came must not become a disk.
        func connectionEnded() {
            guard !ended, !finished else { return }
            finished = true
            pipe?.close(promise: nil)
            guard let upload else { return }
            upload.kill()
            let loop = context.eventLoop
            Task {
                _ = await upload.outcome()
                loop.execute {
                    self.report(.failed(reason: "UploadCutOff", message: "the connection ended before the end of the image", retryable: true), answer: false)
                }
            }
        }

        private func write(_ part: ByteBuffer) {
            guard let pipe else { return }
            waitingBytes += part.readableBytes
            if waitingBytes > Self.highWater { pause() }
            pipe.writeAndFlush(part).whenComplete { result in
                self.waitingBytes -= part.readableBytes
                switch result {
                case .success: self.resumeIfDrained()
                case .failure:
                    // The importer stopped reading (it failed): its exit says why.
                    guard !self.finished else { return }
                    self.finished = true
                    self.pipe?.close(promise: nil)
                    self.awaitImporter()
                }
            }
        }

        private func closePipeAndAnswer() {
            guard !finished else { return }
            finished = true
            // Every write was flushed as it was made; closing after the last one gives the importer its EOF.
            pipe?.writeAndFlush(ByteBuffer()).whenComplete { _ in self.pipe?.close(promise: nil) }
            awaitImporter()
        }

        private func awaitImporter() {
            guard let upload else { return }
            let loop = context.eventLoop
            Task {
                let outcome = await upload.outcome()
                loop.execute { self.report(outcome, answer: true) }
            }
        }

        private func report(_ outcome: VolumeImportOutcome, answer: Bool) {
            let (uploads, namespace, name, loop) = (self.uploads, self.namespace, self.name, context.eventLoop)
            Task {
                let failure = await uploads.end(namespace: namespace, name: name, outcome: outcome)
                if answer { loop.execute { self.respond(failure) } }
            }
        }

        private func finish(_ error: any Error) {
            finished = true
            respond(error as? VirtError ?? VirtError(.internal, "\(error)"))
        }

        private func pause() {
            guard !paused else { return }
            paused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }

        private func resumeIfDrained() {
            guard paused, waitingBytes < Self.lowWater, !finished else { return }
            paused = false
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            context.read()
        }

        /// A `Status` body for an error, as the endpoint's other routes answer.
        static func statusBody(_ error: VirtError) -> [UInt8] {
            let status: JSONValue = [
                "kind": "Status", "apiVersion": "v1", "status": "Failure", "message": .string(error.message),
                "reason": .string(error.code.rawValue), "code": .int(Int64(error.code.httpStatus)),
            ]
            return status.serializedBytes()
        }

        /// Writes the answer (200, or the failure as a `Status`) and closes the connection: the rest of an
        /// upload refused halfway is not read.
        private func respond(_ failure: VirtError?) {
            guard context.channel.isActive else { return }
            let (status, body): (HTTPResponseStatus, [UInt8])
            if let failure {
                (status, body) = (HTTPResponseStatus(statusCode: failure.code.httpStatus), Self.statusBody(failure))
            } else {
                (status, body) = (.ok, Array(#"{"kind":"Status","apiVersion":"v1","status":"Success"}"#.utf8))
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.count))
            headers.add(name: "Connection", value: "close")
            context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
