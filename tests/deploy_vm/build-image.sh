#!/bin/sh
# Build the deploy test's base image: a Debian 12 root file system from Debian's packages (debootstrap),
# with the packages site.yml installs already in it, as a raw ext4 image plus its kernel and initrd.
# The stack is installed in a chroot on the host (seconds per package) rather than inside the guest
# (about 7 minutes under software emulation); site.yml still installs them, and finds them present.
# Usage: build-image.sh CACHE_DIR   (writes CACHE_DIR/base.img, vmlinuz, initrd.img, id_ed25519)
set -eu

cache="${1:?usage: build-image.sh CACHE_DIR}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
work="$cache/build.$$"
root="$work/root"
# Keep in step with the "Install system packages" tasks in deploy/ansible (site.yml): whatever is
# missing here, the first playbook run installs inside the guest, only slower.
stack="python3 python3-venv libpq5 postgresql redis-server nginx nftables openssl tar acl restic openssh-client sudo curl"

cleanup() {
    for fs in dev/pts dev proc sys; do umount "$root/$fs" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
mkdir -p "$cache" "$work"

[ -f "$cache/id_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -C supportdesk-deploy-test -f "$cache/id_ed25519"

echo "image: debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,python3,openssh-server,sudo,ca-certificates,ifupdown,isc-dhcp-client,iproute2 \
    bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }

mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
# No service starts inside the chroot; they start when the guest boots.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES

echo "image: kernel and the stack ($(echo $stack | wc -w) packages)"
chroot "$root" sh -c "export DEBIAN_FRONTEND=noninteractive; apt-get update -q && \
    apt-get install -y -q --no-install-recommends linux-image-cloud-amd64 $stack" \
    >"$work/apt.log" 2>&1 || { tail -30 "$work/apt.log"; exit 1; }
chroot "$root" apt-get clean
# pg_createcluster picked the first free port, and this machine's own PostgreSQL holds 5432 (the chroot
# shares its network): the guest's cluster is its only one, on the standard port.
sed -i 's/^port = .*/port = 5432/' "$root"/etc/postgresql/*/main/postgresql.conf
grep -q '^port = 5432' "$root"/etc/postgresql/*/main/postgresql.conf
rm -f "$root/usr/sbin/policy-rc.d"

echo "debian-deploy-test" >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 debian-deploy-test\n' >"$root/etc/hosts"
printf 'auto lo\niface lo inet loopback\nauto eth0\niface eth0 inet dhcp\n' >"$root/etc/network/interfaces"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
mkdir -p -m 700 "$root/root/.ssh"
cp "$cache/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
chmod 600 "$root/root/.ssh/authorized_keys"
# A fresh VM has no SSH host keys baked into a shared image: each boot of a new disk makes its own.
rm -f "$root"/etc/ssh/ssh_host_*
cat >"$root/etc/systemd/system/ssh-host-keys.service" <<UNIT
[Unit]
Description=Generate SSH host keys on first boot
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
chroot "$root" systemctl enable ssh-host-keys.service >/dev/null 2>&1
# The serial console is the test's only view of a boot that fails; no getty waits on it.
chroot "$root" systemctl mask serial-getty@ttyS0.service >/dev/null 2>&1
echo "root:$(head -c 24 /dev/urandom | base64)" | chroot "$root" chpasswd

cp "$root"/boot/vmlinuz-* "$work/vmlinuz"
cp "$root"/boot/initrd.img-* "$work/initrd.img"
chmod 644 "$work/vmlinuz" "$work/initrd.img"
for fs in dev/pts dev proc sys; do umount "$root/$fs"; done

echo "image: ext4 file system ($(du -sh "$root" | cut -f1) of files)"
rm -f "$work/base.img"
mkfs.ext4 -q -L root -d "$root" "$work/base.img" 8G
mv "$work/vmlinuz" "$work/initrd.img" "$cache/"
mv "$work/base.img" "$cache/base.img"
echo "image: ready in $cache"
