#!/bin/sh
# The rehearsal's machines (deploy/rehearsal/README.md): Debian 12 root file systems booted with
# systemd under systemd-nspawn, sharing the host's network (so 127.0.0.1 is the host's).
#   machine.sh make NAME            debootstrap a fresh machine into $REHEARSAL_DIR/NAME
#   machine.sh boot NAME [ARGS...]  boot it (extra systemd-nspawn ARGS, e.g. --bind=SRC:DST)
#   machine.sh run NAME 'COMMANDS'  run a root shell's COMMANDS on it
#   machine.sh stop NAME            power it off
set -eu
dir=${REHEARSAL_DIR:-/var/tmp/hubnet-rehearsal}
cmd=$1; name=$2; shift 2
root="$dir/$name"
nspawn_pid() { pgrep -f "systemd-nspawn -D $root " | head -1; }
inner_pid() { p=$(nspawn_pid) && [ -n "$p" ] && pgrep -P "$p" | head -1; }
case "$cmd" in
make)
  mkdir -p "$dir"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,ca-certificates,curl,procps,iproute2 \
    bookworm "$root" http://deb.debian.org/debian
  printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"
  ;;
boot)
  setsid systemd-nspawn -D "$root" -b --register=no --keep-unit -M "$name" "$@" \
    > "$dir/$name.console.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    i=$(inner_pid || true)
    if [ -n "$i" ] && nsenter -t "$i" -a systemctl is-system-running --wait >/dev/null 2>&1; then
      echo "$name is up"; exit 0
    fi
    sleep 1
  done
  echo "$name did not boot; see $dir/$name.console.log" >&2; exit 1
  ;;
run)
  i=$(inner_pid) || { echo "$name is not running" >&2; exit 1; }
  exec nsenter -t "$i" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root TERM=dumb bash -c "cd /root && $1"
  ;;
stop)
  i=$(inner_pid) && nsenter -t "$i" -a systemctl poweroff || true
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
