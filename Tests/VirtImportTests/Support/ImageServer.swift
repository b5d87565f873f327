import Foundation

/// A real HTTP server on loopback (Python's `http.server`, started per test) that serves the files of
/// a directory, plus the failures an importer must handle:
///
/// - `/f/NAME`: the file, with `Content-Length`
/// - `/nolength/NAME`: the file, no `Content-Length` (the end is the close)
/// - `/truncate/NAME`: announces the file's length, sends half of it, closes
/// - `/status/CODE`: answers CODE
/// - `/auth/NAME`: needs basic auth `user:s3cret`, else 401
/// - `/header/NAME`: needs `X-Token: t0ken`, else 403
final class ImageServer {
    let directory: String
    let baseURL: String
    private let process: Process

    private init(directory: String, baseURL: String, process: Process) {
        self.directory = directory
        self.baseURL = baseURL
        self.process = process
    }

    /// Runs `body` with a server over `directory`, stopping it afterwards.
    /// With `tls` (certificate and key PEM files) it serves https.
    static func with<T>(directory: String, tls: (certificate: String, key: String)? = nil, _ body: (ImageServer) async throws -> T) async throws -> T {
        let script = "\(directory)/.server.py"
        let portFile = "\(directory)/.port"
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FileManager.default.fileExists(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "/usr/bin/env")
        process.arguments = (process.executableURL?.path == "/usr/bin/env" ? ["python3"] : []) + [script, directory, portFile] + (tls.map { [$0.certificate, $0.key] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            // SIGKILL: the child inherits the test thread's blocked signals (SIGTERM among them).
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        var port: String?
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), text.hasSuffix("\n") {
                port = text.trimmingCharacters(in: .whitespacesAndNewlines)
                break
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        guard let port else { throw ServerError.didNotStart }
        return try await body(ImageServer(directory: directory, baseURL: "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)", process: process))
    }

    func url(_ path: String) -> String { "\(baseURL)/\(path)" }

    enum ServerError: Error { case didNotStart }

    private static let script = #"""
        import base64, os, sys
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        root, port_file = sys.argv[1], sys.argv[2]

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send_file(self, name, length=True, truncate=False):
                path = os.path.join(root, name)
                if not os.path.isfile(path):
                    self.send_error(404, "Not Found")
                    return
                size = os.path.getsize(path)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if length:
                    self.send_header("Content-Length", str(size))
                self.end_headers()
                limit = size // 2 if truncate else size
                with open(path, "rb") as f:
                    sent = 0
                    while sent < limit:
                        chunk = f.read(min(65536, limit - sent))
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                        sent += len(chunk)
                self.wfile.flush()
                self.close_connection = True

            def do_GET(self):
                kind, _, rest = self.path.lstrip("/").partition("/")
                if kind == "f":
                    self.send_file(rest)
                elif kind == "nolength":
                    self.send_file(rest, length=False)
                elif kind == "truncate":
                    self.send_file(rest, truncate=True)
                elif kind == "status":
                    self.send_error(int(rest))
                elif kind == "auth":
                    expected = "Basic " + base64.b64encode(b"user:s3cret").decode()
                    if self.headers.get("Authorization") != expected:
                        self.send_response(401, "Unauthorized")
                        self.send_header("WWW-Authenticate", 'Basic realm="images"')
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_file(rest)
                elif kind == "header":
                    if self.headers.get("X-Token") != "t0ken":
                        self.send_error(403, "Forbidden")
                        return
                    self.send_file(rest)
                else:
                    self.send_error(404, "Not Found")

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if len(sys.argv) > 4:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[3], sys.argv[4])
            server.socket = context.wrap_socket(server.socket, server_side=True)
        with open(port_file + ".tmp", "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.rename(port_file + ".tmp", port_file)
        server.serve_forever()
        """#
}
