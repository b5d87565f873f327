#!/bin/bash
# guest/cidata.sh OUTPUT.iso HOSTNAME [USERDATA_FILE] [NETWORK_CONFIG_FILE]
#
# Builds a cloud-init NoCloud seed ISO (ISO9660 + Rock Ridge + Joliet, volume
# label "cidata") holding:
#   meta-data       instance-id (${SWIFTVIRT_INSTANCE_ID:-iid-HOSTNAME}) and local-hostname
#   user-data       USERDATA_FILE, or "#cloud-config" with nothing else
#   network-config  NETWORK_CONFIG_FILE, only when given
# Uses genisoimage, or xorriso; installs genisoimage with apt-get when neither is there.
set -euo pipefail

usage() { echo "usage: $0 OUTPUT.iso HOSTNAME [USERDATA_FILE] [NETWORK_CONFIG_FILE]" >&2; exit 2; }
die() { echo "cidata.sh: error: $*" >&2; exit 1; }

(($# >= 2 && $# <= 4)) || usage
out=$1 host=$2 userdata=${3:-} netcfg=${4:-}
[[ $host =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || die "invalid hostname: $host"
[[ -z $userdata || -f $userdata ]] || die "no such user-data file: $userdata"
[[ -z $netcfg || -f $netcfg ]] || die "no such network-config file: $netcfg"

if command -v genisoimage >/dev/null; then
    mkiso=(genisoimage)
elif command -v xorriso >/dev/null; then
    mkiso=(xorriso -as mkisofs)
else
    [[ $(id -u) == 0 ]] || die "needs genisoimage or xorriso (apt-get install genisoimage)"
    export DEBIAN_FRONTEND=noninteractive
    echo "cidata.sh: apt-get install genisoimage" >&2
    aptlog=$(mktemp)
    if ! { apt-get install -y -qq --no-install-recommends genisoimage ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends genisoimage; }; } >"$aptlog" 2>&1; then
        cat "$aptlog" >&2; rm -f "$aptlog"
        die "cannot install genisoimage"
    fi
    rm -f "$aptlog"
    mkiso=(genisoimage)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cidata.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/seed"
printf 'instance-id: %s\nlocal-hostname: %s\n' "${SWIFTVIRT_INSTANCE_ID:-iid-$host}" "$host" >"$work/seed/meta-data"
if [[ -n $userdata ]]; then
    cp "$userdata" "$work/seed/user-data"
else
    printf '#cloud-config\n{}\n' >"$work/seed/user-data"
fi
[[ -z $netcfg ]] || cp "$netcfg" "$work/seed/network-config"

"${mkiso[@]}" -quiet -output "$work/seed.iso" -volid cidata -joliet -rock "$work/seed" 2>"$work/log" ||
    { cat "$work/log" >&2; die "making the ISO failed"; }
mv -f "$work/seed.iso" "$out"
