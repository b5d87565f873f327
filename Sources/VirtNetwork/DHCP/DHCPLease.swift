/// What one client gets from a `DHCPResponder`: its address and the network's settings, and the address
/// the responder answers from (option 54, the server identifier).
public struct DHCPLease: Sendable, Equatable {
    /// A classless static route (option 121).
    public struct Route: Sendable, Equatable {
        public var destination: DHCPAddress
        public var prefixLength: Int
        public var gateway: DHCPAddress

        public init(destination: DHCPAddress, prefixLength: Int, gateway: DHCPAddress) {
            self.destination = destination
            self.prefixLength = prefixLength
            self.gateway = gateway
        }

        /// A route from text: `10.1.0.0/16` via `10.0.2.1`.
        public init(cidr: String, gateway: String) throws(DHCPError) {
            let (destination, length) = try DHCPLease.parseCIDR(cidr)
            guard let gatewayAddress = DHCPAddress(gateway) else { throw .invalidLease("route gateway \(gateway) is not an IPv4 address") }
            self.init(destination: destination, prefixLength: length, gateway: gatewayAddress)
        }

        /// Whether this is a default route (`0.0.0.0/0`).
        public var isDefault: Bool { prefixLength == 0 }
    }

    /// The default lease time: 999 days, as KubeVirt gives its VMs (in effect never renewed).
    public static let defaultLeaseTime: UInt32 = 999 * 24 * 60 * 60

    /// The client's address (`yiaddr`).
    public var address: DHCPAddress
    /// The prefix length of the client's subnet (option 1 as a mask, option 28 derived from it).
    public var prefixLength: Int
    /// The address the responder answers from and names as server identifier (option 54).
    public var serverAddress: DHCPAddress
    /// The default gateway (option 3).
    public var router: DHCPAddress?
    /// Option 6.
    public var dnsServers: [DHCPAddress]
    /// Option 119.
    public var searchDomains: [String]
    /// Option 15.
    public var domainName: String?
    /// Option 12.
    public var hostname: String?
    /// Option 26.
    public var mtu: Int?
    /// Option 121. A client that takes option 121 ignores option 3 (RFC 3442), so when there are routes
    /// but none of them is a default route, the reply adds `0.0.0.0/0` via `router` to them.
    public var routes: [Route]
    /// Further options sent as they are, after the ones above (TFTP server, boot file, NTP, private
    /// options: see `DHCPLease.options(kubeVirtDHCPOptions:)`).
    public var extraOptions: [DHCPOption]
    /// Option 51, in seconds.
    public var leaseTime: UInt32

    public init(
        address: DHCPAddress, prefixLength: Int, serverAddress: DHCPAddress, router: DHCPAddress? = nil,
        dnsServers: [DHCPAddress] = [], searchDomains: [String] = [], domainName: String? = nil,
        hostname: String? = nil, mtu: Int? = nil, routes: [Route] = [], extraOptions: [DHCPOption] = [],
        leaseTime: UInt32 = DHCPLease.defaultLeaseTime
    ) {
        self.address = address
        self.prefixLength = prefixLength
        self.serverAddress = serverAddress
        self.router = router
        self.dnsServers = dnsServers
        self.searchDomains = searchDomains
        self.domainName = domainName
        self.hostname = hostname
        self.mtu = mtu
        self.routes = routes
        self.extraOptions = extraOptions
        self.leaseTime = leaseTime
    }

    /// Option 1.
    public var subnetMask: DHCPAddress { DHCPAddress.mask(prefixLength: prefixLength) }

    /// Option 28; `nil` for /31 and /32, which have no broadcast address.
    public var broadcastAddress: DHCPAddress? {
        prefixLength >= 31 ? nil : DHCPAddress(address.value | ~subnetMask.value)
    }

    /// The routes option 121 carries: `routes`, plus the default route via `router` when `routes` lacks one.
    public var classlessRoutes: [Route] {
        guard !routes.isEmpty, let router, !routes.contains(where: \.isDefault) else { return routes }
        return routes + [Route(destination: .unspecified, prefixLength: 0, gateway: router)]
    }

    /// Refuses a lease a client could not use or the options could not carry: a prefix outside 0…32,
    /// an MTU below IPv4's 68 or above 65535, an unspecified address, names that are not DNS names.
    public func validate() throws(DHCPError) {
        guard (0...32).contains(prefixLength) else { throw .invalidLease("prefix length \(prefixLength) is outside 0…32") }
        guard address != .unspecified else { throw .invalidLease("the client address is 0.0.0.0") }
        if let mtu, !(68...65535).contains(mtu) { throw .invalidLease("MTU \(mtu) is outside 68…65535") }
        for route in routes where !(0...32).contains(route.prefixLength) {
            throw .invalidLease("route \(route.destination)/\(route.prefixLength) has a prefix length outside 0…32")
        }
        for name in searchDomains + [domainName, hostname].compactMap({ $0 }) {
            let labels = name.split(separator: ".", omittingEmptySubsequences: false)
            let trimmed = name.hasSuffix(".") ? labels.dropLast() : labels[...]
            guard !name.isEmpty, name.utf8.count <= 253, trimmed.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 }) else {
                throw .invalidLease("\"\(name)\" is not a DNS name (labels of 1…63 bytes, at most 253 bytes in all)")
            }
        }
    }

    /// Reads `10.1.0.0/16`.
    static func parseCIDR(_ text: String) throws(DHCPError) -> (DHCPAddress, Int) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = DHCPAddress(parts[0]), let length = Int(parts[1]), (0...32).contains(length) else {
            throw .invalidLease("\(text) is not an IPv4 CIDR such as 10.1.0.0/16")
        }
        return (address, length)
    }
}
