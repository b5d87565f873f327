#!/bin/bash
# guest/build.sh [OUTDIR] - build the SwiftVirt test guest from Debian packages.
#
# OUTDIR (default ${SWIFTVIRT_GUEST_DIR:-/var/lib/swiftvirt/guest}) receives:
#   vmlinuz      Debian's linux-image-amd64 kernel
#   initrd.img   busybox-static userland + the few kernel modules the guest needs
#   disk.raw     BIOS-bootable disk: MBR (syslinux mbr.bin), one FAT partition
#                with syslinux, vmlinuz, initrd.img, syslinux.cfg (console=ttyS0)
#   disk.qcow2   the same disk as qcow2
#   manifest.txt versions, sizes and checksums of the above
#
# Cached: when every output exists and OUTDIR/.stamp holds the hash of this
# script plus guest/rootfs/, it exits at once. Needs root (apt-get) and installs
# its own build tools when they are missing. Downloaded .debs are kept in
# ${SWIFTVIRT_GUEST_CACHE:-OUTDIR/.cache}. No loop devices, no mounts.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUTDIR=${1:-${SWIFTVIRT_GUEST_DIR:-/var/lib/swiftvirt/guest}}
OUTPUTS=(vmlinuz initrd.img disk.raw disk.qcow2 manifest.txt)

# Modules the guest loads (dependencies are added from modules.dep). Missing or
# built-in ones are skipped.
MODULES=(
    virtio_pci virtio_blk virtio_net virtio_scsi virtio_rng  # virtio devices
    sd_mod sr_mod ahci                                       # SCSI/SATA disks and cdroms
    crct10dif_generic crc64_rocksoft_generic                 # checksums sd_mod's t10-pi asks for
    isofs vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859-1    # cloud-init seed file systems
    button evdev                                             # ACPI power button -> acpid
)
PART_START=2048            # first sector of the FAT partition (1 MiB)
ROOT_PASSWORD=swiftvirt

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

recipe_hash() {
    (cd "$HERE" && find build.sh rootfs \( -type f -o -type l \) -print0 | LC_ALL=C sort -z |
        xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}
HASH=$(recipe_hash)

is_current() {
    local f
    [[ -f $OUTDIR/.stamp && $(<"$OUTDIR/.stamp") == "$HASH" ]] || return 1
    for f in "${OUTPUTS[@]}"; do [[ -s $OUTDIR/$f ]] || return 1; done
}

if is_current; then
    log "up to date: $OUTDIR"
    exit 0
fi

[[ $(id -u) == 0 ]] || die "must run as root (it uses apt-get)"
mkdir -p "$OUTDIR"
exec 9>"$OUTDIR/.lock"
flock 9                    # one build per OUTDIR at a time
if is_current; then        # someone else built it while we waited
    log "up to date: $OUTDIR"
    exit 0
fi
START=$(date +%s)
CACHE=${SWIFTVIRT_GUEST_CACHE:-$OUTDIR/.cache}
mkdir -p "$CACHE"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/swiftvirt-guest.XXXXXX")
chmod 0755 "$WORK"         # so apt can download as user _apt into $WORK/dl
STAGE=$(mktemp -d "$OUTDIR/.build.XXXXXX")
trap 'rm -rf "$WORK" "$STAGE"' EXIT

# ------------------------------------------------------------ host tools
export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=
apt_update() {
    [[ -n $APT_UPDATED ]] && return 0
    log "apt-get update"
    apt-get update -qq >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; die "apt-get update failed"; }
    APT_UPDATED=1
}
apt_lists_ready() {
    compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null && return 0
    compgen -G '/var/lib/apt/lists/*_Packages.*' >/dev/null && return 0
    apt_update
}
apt_install() {
    apt_lists_ready
    log "apt-get install $*"
    if ! apt-get install -y -qq --no-install-recommends "$@" >"$WORK/apt.log" 2>&1; then
        apt_update
        apt-get install -y -qq --no-install-recommends "$@" >"$WORK/apt.log" 2>&1 ||
            { cat "$WORK/apt.log" >&2; die "cannot install $*"; }
    fi
}
need=()
command -v mcopy >/dev/null || need+=(mtools)
command -v syslinux >/dev/null || need+=(syslinux)
[[ -f /usr/lib/syslinux/mbr/mbr.bin ]] || need+=(syslinux-common)
command -v sfdisk >/dev/null || need+=(fdisk)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v cpio >/dev/null || need+=(cpio)
((${#need[@]} == 0)) || apt_install "${need[@]}"

# ------------------------------------------------------------ packages
# fetch PKG: print the path of PKG's .deb in the cache, downloading it if needed
fetch() {
    local pkg=$1 uri file dl
    uri=$(apt-get download --print-uris "$pkg" 2>/dev/null | head -n 1) || true
    if [[ -z $uri ]]; then
        apt_update
        uri=$(apt-get download --print-uris "$pkg" | head -n 1) || true
        [[ -n $uri ]] || die "apt cannot find package $pkg"
    fi
    file=$(awk '{print $2}' <<<"$uri")
    if [[ ! -s $CACHE/$file ]]; then
        log "downloading $file"
        dl=$WORK/dl; mkdir -p "$dl"
        chown _apt "$dl" 2>/dev/null || true     # lets apt download sandboxed, as user _apt
        (cd "$dl" && apt-get download -qq "$pkg" >&2) || die "apt-get download $pkg failed"
        find "$CACHE" -maxdepth 1 -name "${pkg}_*.deb" -delete   # drop older versions
        mv "$dl/$file" "$CACHE/$file"
    fi
    echo "$CACHE/$file"
}

apt_lists_ready
KPKG=${SWIFTVIRT_GUEST_KERNEL_PKG:-}
if [[ -z $KPKG ]]; then
    KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}') || true
    if [[ -z $KPKG ]]; then
        apt_update
        KPKG=$(apt-cache depends linux-image-amd64 |
            awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}') || true
    fi
    [[ -n $KPKG ]] || die "cannot resolve linux-image-amd64 to a kernel package"
fi
KDEB=$(fetch "$KPKG")
BBDEB=$(fetch busybox-static)

log "unpacking $(basename "$KDEB") and $(basename "$BBDEB")"
dpkg-deb -x "$KDEB" "$WORK/k"
dpkg-deb -x "$BBDEB" "$WORK/bb"
BB=$WORK/bb/bin/busybox
[[ -x $BB ]] || die "busybox-static has no /bin/busybox"
KVER=$(ls "$WORK/k/lib/modules")
[[ $(wc -w <<<"$KVER") == 1 ]] || die "expected one kernel version, got: $KVER"
VMLINUZ=$WORK/k/boot/vmlinuz-$KVER
[[ -f $VMLINUZ ]] || die "no vmlinuz in $KPKG"
KMODS=$WORK/k/lib/modules/$KVER

# ------------------------------------------------------------ modules
# The .deb ships no modules.dep (depmod runs at install time): make one.
log "computing module dependencies for $KVER"
"$BB" depmod -b "$WORK/k" "$KVER"
[[ -s $KMODS/modules.dep ]] || die "depmod produced no modules.dep"

modname() { local n=${1##*/}; n=${n%%.ko*}; echo "${n//-/_}"; }
declare -A MPATH MDEPS SEEN
while IFS= read -r line; do
    p=${line%%:*}
    n=${p##*/}; n=${n%%.ko*}; n=${n//-/_}     # same as modname, without a fork per line
    MPATH[$n]=$p
    MDEPS[$n]=${line#*:}
done <"$KMODS/modules.dep"

ORDER=()
visit() {
    local n=$1 d
    [[ -n ${SEEN[$n]:-} || -z ${MPATH[$n]:-} ]] && return 0
    SEEN[$n]=1
    for d in ${MDEPS[$n]:-}; do visit "$(modname "$d")"; done
    ORDER+=("${MPATH[$n]}")
}
for m in "${MODULES[@]}"; do
    n=$(modname "$m")
    if [[ -n ${MPATH[$n]:-} ]]; then
        visit "$n"
    elif grep -qE "/${m}\.ko|/${n}\.ko" "$KMODS/modules.builtin" 2>/dev/null; then
        log "module $m is built into the kernel"
    else
        log "warning: module $m not found, skipped"
    fi
done

# Debian 12 ships plain .ko; later kernels may use .ko.xz or .ko.zst
if printf '%s\n' "${ORDER[@]}" | grep -q '\.xz$' && ! command -v xz >/dev/null; then apt_install xz-utils; fi
if printf '%s\n' "${ORDER[@]}" | grep -q '\.zst$' && ! command -v zstd >/dev/null; then apt_install zstd; fi

ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc/swiftvirt,proc,sys,dev,run,tmp,mnt,root,var/log,www}
LIST=$ROOT/etc/swiftvirt/modules.list
: >"$LIST"
for p in "${ORDER[@]}"; do
    src=$KMODS/$p
    dst=${p%.xz}; dst=${dst%.zst}; dst=${dst%.gz}
    mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$dst")"
    # busybox insmod wants plain ELF: decompress .ko.xz/.ko.zst/.ko.gz here
    case $p in
        *.xz) xz -dc "$src" >"$ROOT/lib/modules/$KVER/$dst" ;;
        *.zst) zstd -qdc "$src" >"$ROOT/lib/modules/$KVER/$dst" ;;
        *.gz) gzip -dc "$src" >"$ROOT/lib/modules/$KVER/$dst" ;;
        *) cp "$src" "$ROOT/lib/modules/$KVER/$dst" ;;
    esac
    echo "$dst" >>"$LIST"
done
cp "$KMODS/modules.builtin" "$KMODS/modules.order" "$ROOT/lib/modules/$KVER/" 2>/dev/null || true
"$BB" depmod -b "$ROOT" "$KVER"    # small modules.dep so "modprobe" works in the guest
log "${#ORDER[@]} modules: $(for p in "${ORDER[@]}"; do modname "$p"; done | tr '\n' ' ')"

# ------------------------------------------------------------ initramfs
cp -a "$HERE/rootfs/." "$ROOT/"
cp "$BB" "$ROOT/bin/busybox"
while IFS= read -r a; do      # applet links, where rootfs/ has no file of that name
    [[ -e $ROOT/$a || -L $ROOT/$a ]] || ln -s /bin/busybox "$ROOT/$a"
done < <("$BB" --list-full)
chmod 0755 "$ROOT/init" "$ROOT/etc/init.d/rcS" "$ROOT/etc/init.d/rcK" \
    "$ROOT/sbin/swiftvirt-getty" "$ROOT/bin/bash" "$ROOT/etc/acpi/PWRF/00000080" \
    "$ROOT/usr/share/udhcpc/default.script"
chmod 1777 "$ROOT/tmp"
chmod 0700 "$ROOT/root"
HASHPW=$("$BB" mkpasswd -m sha512 -S swiftvirtguest "$ROOT_PASSWORD")
cat >"$ROOT/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/:/sbin/nologin
nobody:x:65534:65534:nobody:/:/sbin/nologin
EOF
cat >"$ROOT/etc/group" <<EOF
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
EOF
cat >"$ROOT/etc/shadow" <<EOF
root:$HASHPW:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
chmod 0600 "$ROOT/etc/shadow"
printf 'console\nttyS0\nttyS1\ntty1\ntty2\n' >"$ROOT/etc/securetty"
echo swiftvirt >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n' >"$ROOT/etc/hosts"
BBVER=$(dpkg-deb -f "$BBDEB" Version)
KPKGVER=$(dpkg-deb -f "$KDEB" Version)
cat >"$ROOT/etc/swiftvirt/build-info" <<EOF
kernel=$KVER ($KPKG $KPKGVER)
busybox=$BBVER
recipe=$HASH
EOF
# the kernel opens /dev/console before /init runs
mknod -m 0600 "$ROOT/dev/console" c 5 1
mknod -m 0666 "$ROOT/dev/null" c 1 3

log "packing initrd.img"
# fixed mtimes (SOURCE_DATE_EPOCH or 2024-01-01): same inputs give the same initrd.img
find "$ROOT" -exec touch -h -d "@${SOURCE_DATE_EPOCH:-1704067200}" {} +
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z |
    cpio --null --create --format=newc --owner=0:0 --reproducible --quiet) |
    gzip -9n >"$STAGE/initrd.img"
cp "$VMLINUZ" "$STAGE/vmlinuz"

# ------------------------------------------------------------ disk image
# MBR + one active FAT partition holding syslinux, the kernel and the initrd.
# mtools and syslinux address the partition as IMAGE@@OFFSET: no loop device.
log "making disk.raw"
MIB=$((1024 * 1024))
payload=$(($(stat -c %s "$STAGE/vmlinuz") + $(stat -c %s "$STAGE/initrd.img")))
part_mib=$(((payload + MIB - 1) / MIB + 8))
((part_mib >= 31)) || part_mib=31
part_sectors=$((part_mib * MIB / 512))
disk_bytes=$(((PART_START + part_sectors) * 512))
off=$((PART_START * 512))
DISK=$STAGE/disk.raw
truncate -s "$disk_bytes" "$DISK"
printf 'label: dos\nlabel-id: 0x53564d31\nstart=%d, size=%d, type=e, bootable\n' "$PART_START" "$part_sectors" |
    sfdisk --quiet --no-reread --no-tell-kernel "$DISK" >/dev/null
export MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null
# -H: BPB hidden sectors = partition start. syslinux --offset leaves it alone; booting via
# mbr.bin works without it (the MBR hands over the partition entry), other loaders need it.
mformat -i "$DISK@@$off" -T "$part_sectors" -h 64 -s 32 -H "$PART_START" -N 53564d31 -v SWIFTVIRT ::
syslinux --offset "$off" --install "$DISK"
cat >"$WORK/syslinux.cfg" <<'EOF'
SERIAL 0 115200
DEFAULT swiftvirt
PROMPT 0
TIMEOUT 0
LABEL swiftvirt
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND console=ttyS0
EOF
mcopy -i "$DISK@@$off" "$STAGE/vmlinuz" "$STAGE/initrd.img" "$WORK/syslinux.cfg" ::/
if ! mdir -i "$DISK@@$off" -a -b ::/ | grep -qi "ldlinux.c32"; then   # 6.x installers add it
    mcopy -i "$DISK@@$off" /usr/lib/syslinux/modules/bios/ldlinux.c32 ::/
fi
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$DISK" bs=440 count=1 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$DISK" "$STAGE/disk.qcow2"

# ------------------------------------------------------------ publish
{
    echo "recipe=$HASH"
    echo "kernel_version=$KVER"
    echo "kernel_package=$KPKG $KPKGVER"
    echo "busybox_package=busybox-static $BBVER"
    echo "modules=$(for p in "${ORDER[@]}"; do modname "$p"; done | tr '\n' ' ' | sed 's/ $//')"
    echo "cmdline=console=ttyS0"
    echo "root_password=$ROOT_PASSWORD"
    for f in vmlinuz initrd.img disk.raw disk.qcow2; do
        echo "size.$f=$(stat -c %s "$STAGE/$f")"
    done
    (cd "$STAGE" && sha256sum vmlinuz initrd.img disk.raw disk.qcow2) | awk '{print "sha256." $2 "=" $1}'
} >"$STAGE/manifest.txt"

rm -f "$OUTDIR/.stamp"
for f in "${OUTPUTS[@]}"; do mv -f "$STAGE/$f" "$OUTDIR/$f"; done
echo "$HASH" >"$OUTDIR/.stamp"
log "built $OUTDIR in $(($(date +%s) - START)) s:" \
    "vmlinuz $(du -h --apparent-size "$OUTDIR/vmlinuz" | cut -f1)," \
    "initrd.img $(du -h --apparent-size "$OUTDIR/initrd.img" | cut -f1)," \
    "disk.raw $(du -h --apparent-size "$OUTDIR/disk.raw" | cut -f1)," \
    "disk.qcow2 $(du -h --apparent-size "$OUTDIR/disk.qcow2" | cut -f1)"
