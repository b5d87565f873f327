// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "SwiftVirt",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "swiftvirtd", targets: ["swiftvirtd"]),
        .executable(name: "swiftvirt", targets: ["swiftvirt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(name: "VirtError"),
        .target(name: "VirtAPI", dependencies: [
            "VirtError",
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "VirtStore", dependencies: [
            "VirtAPI",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "VirtAPIServer", dependencies: [
            "VirtStore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "VirtClient", dependencies: [
            "VirtAPI",
            .product(name: "Yams", package: "Yams"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .target(name: "VirtCommands", dependencies: [
            "VirtClient",
            .product(name: "Yams", package: "Yams"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "swiftvirtd", dependencies: [
            "VirtAPIServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "swiftvirt", dependencies: ["VirtCommands"]),
        .executableTarget(name: "VirtBench", dependencies: ["VirtAPIServer", "VirtClient"], path: "bench/VirtBench"),
        .target(name: "VirtTestSupport", dependencies: ["VirtAPIServer", "VirtClient"]),
        .testTarget(name: "VirtAPITests", dependencies: ["VirtAPI"]),
        .testTarget(name: "VirtClientTests", dependencies: ["VirtClient", "VirtCommands"]),
        .testTarget(name: "VirtStoreTests", dependencies: ["VirtStore"]),
        .testTarget(name: "VirtAPIServerTests", dependencies: ["VirtAPIServer", "VirtClient", "VirtTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
