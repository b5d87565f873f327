#!/bin/bash
# shellcheck disable=SC2016  # bash -c '...' bodies expand in the child on purpose
# guest/smoke.sh [OUTDIR] - build the test guest if needed (build.sh), boot it
# under QEMU/TCG and check what it does. Boots, one after the other:
#   disk-cdrom        disk.qcow2 (through a throw-away overlay), NoCloud ISO as a
#                     SATA cdrom, DHCP; ends with the ACPI power button
#   kernel-virtio     -kernel/-initrd, NoCloud ISO as a virtio disk, static
#                     network-config v2; logs in on ttyS0 and runs "poweroff -f"
#   kernel-configdrive  ConfigDrive (config-2) ISO, static network_data.json
#   kernel-vfat       NoCloud on a FAT image labelled CIDATA, network-config v1,
#                     #cloud-config hostname
# Each boot must print the hostname marker, the ip marker, 3 increasing counter
# lines and a login prompt, and serve / and /counter over HTTP (user networking,
# port forwarded from 127.0.0.1 only). SMOKE_QUICK=1 runs the first two boots
# only; SMOKE_TIMEOUT (default 90) bounds each wait in seconds.
# Prints "N passed, M failed"; exit status 0 only if nothing failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUTDIR=${1:-${SWIFTVIRT_GUEST_DIR:-/var/lib/swiftvirt/guest}}
TIMEOUT=${SMOKE_TIMEOUT:-90}
PASSED=0
FAILED=0
FAILURES=()

log() { printf 'smoke.sh: %s\n' "$*" >&2; }
ok() { PASSED=$((PASSED + 1)); printf 'ok   - %s\n' "$*"; }
bad() { FAILED=$((FAILED + 1)); FAILURES+=("$*"); printf 'FAIL - %s\n' "$*"; }
# check NAME CMD...: one test case
check() {
    local name=$1; shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

# ------------------------------------------------------------ setup
if ! command -v qemu-system-x86_64 >/dev/null; then
    [[ $(id -u) == 0 ]] || { log "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"; exit 1; }
    log "apt-get install qemu-system-x86"
    export DEBIAN_FRONTEND=noninteractive
    aptlog=$(mktemp)
    if ! { apt-get install -y -qq --no-install-recommends qemu-system-x86 ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends qemu-system-x86; }; } >"$aptlog" 2>&1; then
        cat "$aptlog" >&2; rm -f "$aptlog"
        log "cannot install qemu-system-x86"; exit 1
    fi
    rm -f "$aptlog"
fi

T0=$(date +%s)
"$HERE/build.sh" "$OUTDIR" || { log "build.sh failed"; echo "0 passed, 1 failed"; exit 1; }
log "build.sh took $(($(date +%s) - T0)) s"
for f in vmlinuz initrd.img disk.qcow2; do
    [[ -s $OUTDIR/$f ]] || { log "missing $OUTDIR/$f"; echo "0 passed, 1 failed"; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/swiftvirt-smoke.XXXXXX")
BG_PIDS=()     # qemu processes and serial/monitor readers started here
cleanup() {
    local p
    for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }

free_port() {
    local p _
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

# ------------------------------------------------------------ VM control
# start_vm NAME QEMU-ARGS...: serial and monitor are FIFO pairs in $TMP,
# the serial output is copied to $TMP/NAME.log.
VM=; VM_PID=; VM_LOG=; VM_PORT=; VM_START=
start_vm() {
    VM=$1; shift
    VM_LOG=$TMP/$VM.log
    VM_PORT=$(free_port)
    local s=$TMP/$VM.ser m=$TMP/$VM.mon
    mkfifo "$s.in" "$s.out" "$m.in" "$m.out"
    : >"$VM_LOG"
    cat "$s.out" >"$VM_LOG" &
    BG_PIDS+=($!)
    cat "$m.out" >"$TMP/$VM.monitor.log" &
    BG_PIDS+=($!)
    VM_START=$(now_ms)
    qemu-system-x86_64 -machine q35,accel=tcg -m 256 -smp 1 -nodefaults -display none \
        -chardev "pipe,id=ser0,path=$s" -serial chardev:ser0 \
        -chardev "pipe,id=mon0,path=$m" -mon chardev=mon0,mode=readline \
        -netdev "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:$VM_PORT-:80" \
        -device virtio-net-pci,netdev=net0,romfile= \
        "$@" </dev/null >"$TMP/$VM.qemu.log" 2>&1 &
    VM_PID=$!
    BG_PIDS+=("$VM_PID")
    log "$VM: qemu pid $VM_PID, http on 127.0.0.1:$VM_PORT"
}

vm_alive() { kill -0 "$VM_PID" 2>/dev/null; }
serial() { tr -d '\r' <"$VM_LOG"; }
# serial_has REGEX (grep reads everything: no SIGPIPE for tr under pipefail)
serial_has() { serial | grep -E -- "$1" >/dev/null; }

# wait_for REGEX [SECONDS]: until the serial log matches (extended regex)
wait_for() {
    local re=$1 limit=$(($(date +%s) + ${2:-$TIMEOUT}))
    while (($(date +%s) < limit)); do
        serial_has "$re" && return 0
        vm_alive || { serial_has "$re"; return; }
        sleep 0.2
    done
    return 1
}

# send TEXT: type TEXT on the serial console
send() {
    timeout 5 bash -c 'printf "%s" "$1" >"$2"' _ "$1" "$TMP/$VM.ser.in"
}
monitor() {
    timeout 5 bash -c 'printf "%s\n" "$1" >"$2"' _ "$1" "$TMP/$VM.mon.in"
}

# wait_exit SECONDS: until qemu has exited
wait_exit() {
    local limit=$(($(date +%s) + $1))
    while (($(date +%s) < limit)); do
        vm_alive || { wait "$VM_PID" 2>/dev/null || true; return 0; }
        sleep 0.2
    done
    return 1
}

stop_vm() {
    if vm_alive; then
        kill "$VM_PID" 2>/dev/null || true
        wait "$VM_PID" 2>/dev/null || true
    fi
}

# at least 3 strictly increasing consecutive "counter: N" lines
counters_increase() {
    local limit=$(($(date +%s) + TIMEOUT))
    while (($(date +%s) < limit)); do
        if serial | grep -oE 'counter: [0-9]+' | awk '{ n = $2 + 0
                if (have && n > prev) run++; else run = 1
                have = 1; prev = n; if (run >= 3) ok = 1 }
                END { exit !ok }'; then
            return 0
        fi
        vm_alive || return 1
        sleep 0.5
    done
    return 1
}

# http_get PATH: body of http://127.0.0.1:$VM_PORT/PATH
http_get() {
    timeout 10 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "GET %s HTTP/1.0\r\nHost: guest\r\n\r\n" "$2" >&3
        cat <&3' _ "$VM_PORT" "$1" 2>/dev/null | tr -d '\r' | sed '1,/^$/d'
}
# http_matches PATH REGEX: retried, the guest may still be starting httpd
http_matches() {
    local body _
    for _ in $(seq 1 20); do
        body=$(http_get "$1" || true)
        grep -qE -- "$2" <<<"$body" && return 0
        sleep 0.5
    done
    log "$VM: GET $1 returned: ${body:0:200}"
    return 1
}

# common_checks HOSTNAME IP: markers, counter, login prompt, HTTP
common_checks() {
    local host=$1 ip=$2 t
    if wait_for "^swiftvirt-guest: hostname=$host\$"; then
        t=$(($(now_ms) - VM_START))
        ok "$VM: hostname marker (hostname=$host) after $((t / 1000)).$(printf '%03d' $((t % 1000))) s"
        BOOT_TIMES+=("$VM=$((t / 1000)).$(printf '%03d' $((t % 1000)))s")
    else
        bad "$VM: hostname marker (hostname=$host)"
        return 1
    fi
    check "$VM: ip marker (ip=$ip)" wait_for "^swiftvirt-guest: ip=$ip( |\$)" 30
    check "$VM: 3 increasing counter lines" counters_increase
    check "$VM: login prompt on ttyS0" wait_for "$host login: " 30
    check "$VM: GET / shows the hostname" http_matches / "id=\"hostname\">$host<"
    check "$VM: GET /counter is a number" http_matches /counter '^[0-9]+$'
}

dump_log() {
    log "---- last serial lines of $VM ----"
    serial | grep -v '^counter: ' | tail -n 25 >&2 || true
    [[ -s $TMP/$VM.qemu.log ]] && { log "---- qemu output ----"; cat "$TMP/$VM.qemu.log" >&2; }
    log "----"
}

BOOT_TIMES=()
USERDATA=$TMP/user-data
cat >"$USERDATA" <<'EOF'
#!/bin/sh
echo "smoke-user-data: ran as $(id -u) on $(hostname)"
EOF

# ------------------------------------------------------------ boot 1: disk + cdrom + DHCP + power button
boot_disk() {
    local base=$OUTDIR/disk.qcow2 before after
    before=$(sha256sum <"$base")
    if ! qemu-img create -q -f qcow2 -b "$base" -F qcow2 "$TMP/disk-overlay.qcow2" ||
        ! "$HERE/cidata.sh" "$TMP/seed-a.iso" smoke-disk "$USERDATA"; then
        bad "disk-cdrom: prepare overlay and seed"; return 0
    fi
    start_vm disk-cdrom \
        -drive "file=$TMP/disk-overlay.qcow2,if=virtio,format=qcow2" \
        -drive "file=$TMP/seed-a.iso,media=cdrom,if=ide,format=raw,readonly=on"
    local f0=$FAILED
    if common_checks smoke-disk 10.0.2.15; then
        check "$VM: seed found on the SATA cdrom" wait_for '^swiftvirt-guest: datasource=nocloud device=/dev/sr0' 5
        check "$VM: #! user-data ran" wait_for '^smoke-user-data: ran as 0 on smoke-disk' 30
        wait_for '^swiftvirt-guest: ready' 30 || true
        monitor system_powerdown
        check "$VM: ACPI power button shuts down cleanly" wait_for '^swiftvirt-guest: shutting down' 30
        check "$VM: qemu exits after the power button" wait_exit 30
    fi
    stop_vm
    ((FAILED == f0)) || dump_log
    after=$(sha256sum <"$base")
    check "disk.qcow2 base image unchanged" test "$before" = "$after"
}

# ------------------------------------------------------------ boot 2: kernel + virtio seed + static v2 + login
boot_kernel() {
    cat >"$TMP/net-v2.yaml" <<'EOF'
network:
  version: 2
  ethernets:
    nic0:
      match:
        name: eth0
      addresses: [10.0.2.15/24]
      routes:
        - to: default
          via: 10.0.2.2
      nameservers:
        addresses: [10.0.2.3]
EOF
    "$HERE/cidata.sh" "$TMP/seed-b.iso" smoke-kernel "$USERDATA" "$TMP/net-v2.yaml" ||
        { bad "kernel-virtio: prepare seed"; return 0; }
    start_vm kernel-virtio \
        -kernel "$OUTDIR/vmlinuz" -initrd "$OUTDIR/initrd.img" -append console=ttyS0 \
        -drive "file=$TMP/seed-b.iso,if=virtio,format=raw,readonly=on"
    local f0=$FAILED
    if common_checks smoke-kernel 10.0.2.15; then
        check "$VM: static network-config v2 applied" \
            wait_for '^swiftvirt-guest: network iface=eth0 mode=static config=network-config-v2' 5
        check "$VM: seed found on the virtio disk" wait_for '^swiftvirt-guest: datasource=nocloud device=/dev/vda' 5
        wait_for '^swiftvirt-guest: ready' 30 || true
        sleep 1
        send $'root\n'
        if wait_for 'Password: ' 30; then
            sleep 0.5
            send $'swiftvirt\n'
        fi
        check "$VM: root logs in with password swiftvirt" wait_for 'root@smoke-kernel:' 30
        send $'touch /run/swiftvirt/counter.quiet; echo shell-$((6 * 7))-ok\n'
        check "$VM: shell runs commands" wait_for 'shell-42-ok' 30
        send $'poweroff -f\n'
        check "$VM: poweroff -f powers the VM off" wait_exit 30
    fi
    stop_vm
    ((FAILED == f0)) || dump_log
}

# ------------------------------------------------------------ boot 3: ConfigDrive
boot_configdrive() {
    local d=$TMP/configdrive
    mkdir -p "$d/openstack/latest"
    cat >"$d/openstack/latest/meta_data.json" <<'EOF'
{"uuid": "7d2c3a9e-0000-4000-8000-00000000c0de", "hostname": "smoke-cd.example.test", "name": "smoke-cd"}
EOF
    cat >"$d/openstack/latest/network_data.json" <<'EOF'
{"links": [{"id": "l0", "type": "phy", "ethernet_mac_address": "52:54:00:12:34:56"}],
 "networks": [{"id": "n0", "type": "ipv4", "link": "l0", "ip_address": "10.0.2.15",
   "netmask": "255.255.255.0", "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.2.2"}]}],
 "services": [{"type": "dns", "address": "10.0.2.3"}]}
EOF
    cp "$USERDATA" "$d/openstack/latest/user_data"
    local mkiso=(genisoimage)
    command -v genisoimage >/dev/null || mkiso=(xorriso -as mkisofs)
    "${mkiso[@]}" -quiet -output "$TMP/configdrive.iso" -volid config-2 -joliet -rock "$d" 2>/dev/null ||
        { bad "kernel-configdrive: prepare seed"; return 0; }
    start_vm kernel-configdrive \
        -kernel "$OUTDIR/vmlinuz" -initrd "$OUTDIR/initrd.img" -append console=ttyS0 \
        -drive "file=$TMP/configdrive.iso,if=virtio,format=raw,readonly=on"
    local f0=$FAILED
    if common_checks smoke-cd 10.0.2.15; then
        check "$VM: ConfigDrive found" wait_for '^swiftvirt-guest: datasource=configdrive' 5
        check "$VM: instance-id from meta_data.json" \
            wait_for '^swiftvirt-guest: instance-id=7d2c3a9e-0000-4000-8000-00000000c0de' 5
        check "$VM: static network_data.json applied" \
            wait_for '^swiftvirt-guest: network iface=eth0 mode=static config=network_data.json' 5
        check "$VM: user_data ran" wait_for '^smoke-user-data: ran as 0 on smoke-cd' 30
    fi
    stop_vm
    ((FAILED == f0)) || dump_log
}

# ------------------------------------------------------------ boot 4: vfat CIDATA + v1 + cloud-config
boot_vfat() {
    local img=$TMP/seed-vfat.img
    cat >"$TMP/net-v1.yaml" <<'EOF'
version: 1
config:
  - type: physical
    name: eth0
    subnets:
      - type: static
        address: 10.0.2.15
        netmask: 255.255.255.0
        gateway: 10.0.2.2
        dns_nameservers: [10.0.2.3]
EOF
    printf 'instance-id: iid-vfat\nlocal-hostname: not-this-one\n' >"$TMP/md-vfat"
    printf '#cloud-config\nhostname: smoke-vfat\npassword: other\n' >"$TMP/ud-vfat"
    truncate -s 2M "$img"
    { MTOOLS_SKIP_CHECK=1 mformat -i "$img" -v CIDATA :: &&
        MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$TMP/md-vfat" ::/meta-data &&
        MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$TMP/ud-vfat" ::/user-data &&
        MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$TMP/net-v1.yaml" ::/network-config; } ||
        { bad "kernel-vfat: prepare seed"; return 0; }
    start_vm kernel-vfat \
        -kernel "$OUTDIR/vmlinuz" -initrd "$OUTDIR/initrd.img" -append console=ttyS0 \
        -drive "file=$img,if=virtio,format=raw,readonly=on"
    local f0=$FAILED
    if common_checks smoke-vfat 10.0.2.15; then
        check "$VM: static network-config v1 applied" \
            wait_for '^swiftvirt-guest: network iface=eth0 mode=static config=network-config-v1' 5
        check "$VM: cloud-config password applied" wait_for '^swiftvirt-guest: root password set from cloud-config' 5
    fi
    stop_vm
    ((FAILED == f0)) || dump_log
}

boot_disk
boot_kernel
if [[ -z ${SMOKE_QUICK:-} ]]; then
    boot_configdrive
    boot_vfat
fi

echo "boot time to hostname marker (TCG): ${BOOT_TIMES[*]:-none}"
if ((FAILED > 0)); then
    printf 'failed: %s\n' "${FAILURES[@]}"
fi
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
