#!/usr/bin/env bash
# fresh-check.sh [DIR] — check the README's two commands on a fresh Debian 12.
#
# Makes a minimal Debian 12 (bookworm) with debootstrap in DIR (default
# /tmp/tifa-fresh), puts a clone of this repository and a copy of
# ../shared beside it, and runs scripts/test.sh and then scripts/demo.sh
# inside it as root, as a new user of tifa would.  Needs root and access to
# the Debian mirror; takes a few minutes.  Not part of CI.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/tifa-fresh}
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
if [ ! -x "$dir/bin/bash" ]; then
  debootstrap --variant=minbase bookworm "$dir" http://deb.debian.org/debian
fi
rm -rf "$dir/root/ci"
mkdir -p "$dir/root/ci"
git clone -q "$here" "$dir/root/ci/main"
[ -d "$here/../shared" ] && cp -r "$here/../shared" "$dir/root/ci/shared"
cp /etc/resolv.conf "$dir/etc/resolv.conf"
mount -t proc proc "$dir/proc"
mount --bind /dev "$dir/dev"
trap 'umount "$dir/proc" "$dir/dev" 2>/dev/null || true' EXIT
chroot "$dir" /bin/bash -c 'cd /root/ci/main && bash scripts/test.sh && bash scripts/demo.sh'
echo "fresh-check: both README commands passed in $dir"
