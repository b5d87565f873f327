# netcfg.awk - read a cloud-init network-config (version 1 or 2, YAML) and
# print shell assignments describing the first interface it configures:
#
#   NET_VERSION=1|2        NET_MODE=dhcp|static|none
#   NET_IFNAME=<name>      NET_MAC=<mac from match/mac_address>
#   NET_ADDR=<a.b.c.d/nn>  NET_GW=<a.b.c.d>   NET_DNS='<a.b.c.d ...>'
#
#   NET_MORE='ifname|mac|mode|addr|gw ...'   every further interface, "-" for empty
#
# Only IPv4 is applied. The YAML reader is small on purpose: block maps,
# block sequences (indented or not), flow sequences "[a, b]", quoted scalars
# and comments. It flattens the document into paths such as
#   ethernets.eth0.addresses[0]   or   config[0].subnets[0].address
# and an optional top-level "network:" wrapper is ignored.
# Runs under busybox awk (no gawk extensions).

function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function unquote(s) {
    s = trim(s)
    if (s ~ /^".*"$/ || s ~ /^'.*'$/) s = substr(s, 2, length(s) - 2)
    return s
}
function curpath(    i, p) {
    p = ""
    for (i = 1; i <= depth; i++) {
        if (isitem[i]) p = p name[i]
        else p = (p == "" ? name[i] : p "." name[i])
    }
    return p
}
function put(path, val) {
    sub(/^network\./, "", path)
    if (!(path in kv)) order[nkeys++] = path
    kv[path] = val
}
function emit(path, val,    n, parts, i) {
    val = trim(val)
    if (val ~ /^\[.*\]$/) {
        val = substr(val, 2, length(val) - 2)
        n = split(val, parts, ",")
        for (i = 1; i <= n; i++)
            if (trim(parts[i]) != "") put(path "[" (i - 1) "]", unquote(parts[i]))
        return
    }
    put(path, unquote(val))
}
# "key: value" / "key:" at column ind; returns 0 if text is not a mapping entry
function mapentry(ind, text,    idx, k, v, p) {
    idx = index(text, ": ")
    if (idx > 0) { k = substr(text, 1, idx - 1); v = substr(text, idx + 2) }
    else if (text ~ /:$/) { k = substr(text, 1, length(text) - 1); v = "" }
    else return 0
    while (depth > 0 && indent[depth] >= ind) depth--
    k = unquote(k); v = trim(v)
    p = curpath(); p = (p == "" ? k : p "." k)
    if (v == "") { depth++; indent[depth] = ind; name[depth] = k; isitem[depth] = 0 }
    else emit(p, v)
    return 1
}

{
    line = $0
    sub(/\r$/, "", line)
    if (line ~ /^[ \t]*#/ || line ~ /^[ \t]*$/ || line ~ /^(---|\.\.\.)/) next
    sub(/[ \t]+#.*$/, "", line)
    ind = 0
    while (substr(line, ind + 1, 1) == " ") ind++
    text = substr(line, ind + 1)
    # sequence items ("- x", possibly "- - x"), each opens an indexed level
    while (text ~ /^-( |$)/) {
        while (depth > 0 && (indent[depth] > ind || (indent[depth] == ind && isitem[depth]))) depth--
        p = curpath()
        n = cnt[p] + 0; cnt[p] = n + 1
        depth++; indent[depth] = ind; name[depth] = "[" n "]"; isitem[depth] = 1
        text = substr(text, 2); ind++
        while (substr(text, 1, 1) == " ") { text = substr(text, 2); ind++ }
        if (text == "") next
    }
    if (!mapentry(ind, text)) {
        if (depth > 0 && isitem[depth]) { emit(curpath(), text); depth-- }
    }
}

function get(k) { return (k in kv) ? kv[k] : "" }
function istrue(v) { v = tolower(v); return v == "true" || v == "yes" || v == "on" }
function isv4(a) { return a ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(\/[0-9]+)?$/ }
function masklen(m,    o, n, i, b, len) {
    if (m ~ /^[0-9]+$/) return m
    n = split(m, o, ".")
    len = 0
    for (i = 1; i <= n; i++) {
        b = o[i] + 0
        while (b > 0) { len += b % 2; b = int(b / 2) }
    }
    return len
}
function adddns(a) {
    if (isv4(a) && index(" " dns " ", " " a " ") == 0) dns = (dns == "" ? a : dns " " a)
}
function clean(v) { gsub(/[^A-Za-z0-9.:\/_ -]/, "", v); return v }

# v2: ethernets.<id> -> ifname mac mode addr gw (dns is collected for all)
function v2iface(id,    b, j, a, t) {
    b = "ethernets." id
    ifname = get(b ".set-name"); if (ifname == "") ifname = id
    mac = get(b ".match.macaddress")
    if (get(b ".match.name") != "" && get(b ".set-name") == "") ifname = get(b ".match.name")
    addr = ""
    for (j = 0; (b ".addresses[" j "]") in kv; j++) {
        a = kv[b ".addresses[" j "]"]
        if (isv4(a)) { addr = a; break }
    }
    gw = get(b ".gateway4")
    for (j = 0; gw == "" && (b ".routes[" j "].to") in kv; j++) {
        t = kv[b ".routes[" j "].to"]
        if (t == "default" || t == "0.0.0.0/0") gw = get(b ".routes[" j "].via")
    }
    for (j = 0; (b ".nameservers.addresses[" j "]") in kv; j++) adddns(kv[b ".nameservers.addresses[" j "]"])
    if (istrue(get(b ".dhcp4"))) mode = "dhcp"
    else if (addr != "") mode = "static"
    else mode = "none"
}
# v1: config[i] of type physical
function v1iface(i,    b, j, s, st, nm, r, nw, k) {
    b = "config[" i "]"
    ifname = get(b ".name"); mac = get(b ".mac_address")
    mode = "none"; addr = ""; gw = ""
    for (j = 0; (b ".subnets[" j "].type") in kv; j++) {
        s = b ".subnets[" j "]"; st = kv[s ".type"]
        if (st == "dhcp" || st == "dhcp4") { mode = "dhcp"; break }
        if ((st == "static" || st == "static4") && isv4(get(s ".address"))) {
            mode = "static"; addr = get(s ".address")
            if (addr !~ /\//) {
                nm = get(s ".netmask")
                addr = addr "/" (nm == "" ? 24 : masklen(nm))
            }
            gw = get(s ".gateway")
            for (r = 0; gw == "" && (s ".routes[" r "].gateway") in kv; r++) {
                nw = get(s ".routes[" r "].network")
                if (nw == "0.0.0.0" || nw == "0.0.0.0/0" || nw == "default") gw = get(s ".routes[" r "].gateway")
            }
            adddns(get(s ".dns_nameservers"))
            for (k = 0; (s ".dns_nameservers[" k "]") in kv; k++) adddns(kv[s ".dns_nameservers[" k "]"])
            break
        }
    }
}
# remember the interface just read as number n
function keep(n) {
    if (addr != "" && addr !~ /\//) addr = addr "/24"
    f_if[n] = clean(ifname); f_mac[n] = clean(tolower(mac)); f_mode[n] = clean(mode)
    f_addr[n] = clean(addr); f_gw[n] = clean(gw)
}

END {
    count = 0; dns = ""; ver = get("version")
    if (ver == "") {
        for (i = 0; i < nkeys; i++) {
            if (order[i] ~ /^ethernets\./) { ver = "2"; break }
            if (order[i] ~ /^config\[/) { ver = "1"; break }
        }
    }
    if (ver == "2") {
        for (i = 0; i < nkeys; i++) {
            if (order[i] !~ /^ethernets\./) continue
            id = substr(order[i], 11); sub(/[.\[].*$/, "", id)
            if (id == "" || (id in seen)) continue
            seen[id] = 1
            v2iface(id); keep(count++)
        }
    } else if (ver == "1") {
        for (i = 0; (("config[" i "].type") in kv); i++) {
            t = kv["config[" i "].type"]
            if (t == "nameserver") {
                adddns(get("config[" i "].address"))
                for (j = 0; ("config[" i "].address[" j "]") in kv; j++) adddns(kv["config[" i "].address[" j "]"])
            }
            if (t == "physical") { v1iface(i); keep(count++) }
        }
    }
    if (count == 0) { f_if[0] = ""; f_mac[0] = ""; f_mode[0] = "dhcp"; f_addr[0] = ""; f_gw[0] = "" }
    printf "NET_VERSION='%s'\nNET_MODE='%s'\nNET_IFNAME='%s'\nNET_MAC='%s'\nNET_ADDR='%s'\nNET_GW='%s'\nNET_DNS='%s'\n", \
        clean(ver), f_mode[0], f_if[0], f_mac[0], f_addr[0], f_gw[0], clean(dns)
    # the other interfaces, one "ifname|mac|mode|addr|gw" word each ("-" for empty)
    more = ""
    for (n = 1; n < count; n++)
        more = more (more == "" ? "" : " ") dash(f_if[n]) "|" dash(f_mac[n]) "|" dash(f_mode[n]) "|" dash(f_addr[n]) "|" dash(f_gw[n])
    printf "NET_MORE='%s'\n", more
}
function dash(v) { gsub(/[ |]/, "", v); return v == "" ? "-" : v }
