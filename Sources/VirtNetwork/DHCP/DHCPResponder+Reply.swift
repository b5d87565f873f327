extension DHCPResponder {
    /// The answer to `request` from a server that has `lease` for the one client `clientMAC`; `nil` when
    /// nothing is to be sent.
    ///
    /// - DISCOVER → OFFER of the lease.
    /// - REQUEST → ACK when it asks for the lease's address: SELECTING (our server identifier and the
    ///   address in option 50), INIT-REBOOT (option 50, no server identifier) or RENEWING/REBINDING (the
    ///   address in `ciaddr`). NAK when it asks for another address. Nothing when it names another server.
    /// - INFORM → ACK with the settings and no address or lease time.
    /// - RELEASE, DECLINE, anything from another MAC, any reply and plain BOOTP → nothing.
    public static func reply(to request: DHCPMessage, lease: DHCPLease, clientMAC: DHCPHardwareAddress) -> DHCPMessage? {
        guard request.operation == .request, request.clientMAC == clientMAC, let type = request.messageType else { return nil }
        switch type {
        case .discover:
            return answer(request, .offer, yourAddress: lease.address, options: leaseOptions(lease, withLeaseTime: true))
        case .request:
            if let server = request.serverIdentifier, server != lease.serverAddress { return nil }
            let asked = request.requestedAddress ?? request.clientAddress
            guard asked == lease.address else {
                return answer(request, .nak, options: [
                    .addresses(.serverIdentifier, [lease.serverAddress]),
                    .text(.message, "\(asked) is not the address leased to \(clientMAC); the lease is \(lease.address)"),
                ])
            }
            return answer(request, .ack, clientAddress: request.clientAddress, yourAddress: lease.address,
                          options: leaseOptions(lease, withLeaseTime: true))
        case .inform:
            return answer(request, .ack, clientAddress: request.clientAddress, options: leaseOptions(lease, withLeaseTime: false))
        case .decline, .release, .offer, .ack, .nak:
            return nil
        }
    }

    private static func answer(
        _ request: DHCPMessage, _ type: DHCPMessage.MessageType, clientAddress: DHCPAddress = .unspecified,
        yourAddress: DHCPAddress = .unspecified, options: [DHCPOption]
    ) -> DHCPMessage {
        DHCPMessage(
            operation: .reply, transactionID: request.transactionID, clientHardwareAddress: request.clientHardwareAddress,
            hardwareType: request.hardwareType, hardwareAddressLength: request.hardwareAddressLength,
            flags: request.flags, clientAddress: clientAddress, yourAddress: yourAddress, relayAddress: request.relayAddress,
            options: [DHCPOption(.messageType, [type.rawValue])] + options)
    }

    /// The lease as options: server identifier first, then the lease time (not in an INFORM's answer),
    /// the network's settings and the extra options.
    static func leaseOptions(_ lease: DHCPLease, withLeaseTime: Bool) -> [DHCPOption] {
        var options: [DHCPOption] = [.addresses(.serverIdentifier, [lease.serverAddress])]
        if withLeaseTime { options.append(.uint32(.leaseTime, lease.leaseTime)) }
        options.append(.addresses(.subnetMask, [lease.subnetMask]))
        if let router = lease.router { options.append(.addresses(.router, [router])) }
        if !lease.dnsServers.isEmpty { options.append(.addresses(.domainNameServer, lease.dnsServers)) }
        if let hostname = lease.hostname, !hostname.isEmpty { options.append(.text(.hostName, hostname)) }
        if let domain = lease.domainName, !domain.isEmpty { options.append(.text(.domainName, domain)) }
        if let mtu = lease.mtu, let value = UInt16(exactly: mtu) { options.append(.uint16(.interfaceMTU, value)) }
        if let broadcast = lease.broadcastAddress { options.append(.addresses(.broadcastAddress, [broadcast])) }
        if !lease.searchDomains.isEmpty { options.append(.domainSearch(lease.searchDomains)) }
        let routes = lease.classlessRoutes
        if !routes.isEmpty { options.append(.classlessStaticRoutes(routes)) }
        return options + lease.extraOptions
    }
}
