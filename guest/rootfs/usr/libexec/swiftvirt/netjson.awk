# netjson.awk - read an OpenStack ConfigDrive network_data.json and print the
# same NET_* shell assignments as netcfg.awk, for the first IPv4 network.
# A flat scan, not a JSON parser: it relies on the usual key names
# (links[].ethernet_mac_address, networks[].type/ip_address/netmask,
# routes[].network/gateway, services[].type=dns/address).
function trim(s) { sub(/^[ \t\r\n]+/, "", s); sub(/[ \t\r\n]+$/, "", s); return s }
function unq(s) { s = trim(s); if (s ~ /^".*"$/) s = substr(s, 2, length(s) - 2); return s }
function isv4(a) { return a ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(\/[0-9]+)?$/ }
function masklen(m,    o, n, i, b, len) {
    if (m ~ /^[0-9]+$/) return m
    n = split(m, o, "."); len = 0
    for (i = 1; i <= n; i++) { b = o[i] + 0; while (b > 0) { len += b % 2; b = int(b / 2) } }
    return len
}
function clean(v) { gsub(/[^A-Za-z0-9.:\/_ -]/, "", v); return v }
{ buf = buf $0 "\n" }
END {
    gsub(/[][{},]/, "\n", buf)
    n = split(buf, lines, "\n")
    section = ""; mode = ""; mac = ""; addr = ""; mask = ""; gw = ""; dns = ""; net = ""; svc = ""
    for (i = 1; i <= n; i++) {
        l = trim(lines[i]); if (l == "") continue
        c = index(l, ":"); if (c == 0) continue
        k = unq(substr(l, 1, c - 1)); v = unq(substr(l, c + 1))
        if (k == "links" || k == "networks" || k == "services") { section = k; continue }
        if (section == "links" && k == "ethernet_mac_address" && mac == "") mac = v
        if (section == "networks") {
            if (k == "type" && mode == "") {
                if (v == "ipv4") mode = "static"
                else if (v == "ipv4_dhcp" || v == "dhcp4" || v == "dhcp") mode = "dhcp"
            }
            if (k == "ip_address" && addr == "" && isv4(v)) addr = v
            if (k == "netmask" && mask == "" && isv4(v)) mask = v
            if (k == "network") net = v
            if (k == "gateway" && gw == "" && isv4(v) && (net == "" || net == "0.0.0.0")) gw = v
        }
        if (section == "services") {
            if (k == "type") svc = v
            if (k == "address" && svc == "dns" && isv4(v)) dns = (dns == "" ? v : dns " " v)
        }
    }
    if (mode == "static" && addr == "") mode = "dhcp"
    if (mode == "") mode = "dhcp"
    if (addr != "" && addr !~ /\//) addr = addr "/" (mask == "" ? 24 : masklen(mask))
    printf "NET_VERSION='configdrive'\nNET_MODE='%s'\nNET_IFNAME=''\nNET_MAC='%s'\nNET_ADDR='%s'\nNET_GW='%s'\nNET_DNS='%s'\n", \
        clean(mode), clean(tolower(mac)), clean(addr), clean(gw), clean(dns)
}
