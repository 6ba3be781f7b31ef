#!/bin/sh
# Adds the sandbox's users to the image whose root is $1: "/" in the Dockerfile, the debootstrap
# root in scripts/build-sandbox-image.sh's offline build, so both ways of building give the same
# entries. The host-agent runs every container alive at once under a uid of its own, from
# FIRST_UID up and never past the last one named here (SANDBOX_UID and SANDBOX_UID_COUNT in
# host-agent/src/sandbox/container-spec.ts; identities.test.ts checks that they agree). Every one
# of them has an entry, so `whoami`, Python's getpass.getuser() and Node's os.userInfo() work
# whichever uid a run gets:
#   uid 10001       sandbox
#   uid 10001 + n   sandbox-n   (n = 1 ... 1023: up to uid 11024)
# all in group `sandbox` (gid 10001), home /workspace (a tmpfs at run time), shell
# /usr/sbin/nologin, no password. Plain appends, no useradd: a few milliseconds for all of them.
set -eu

FIRST_UID=10001
UID_COUNT=1024
GID=10001

root="${1:?usage: sh users.sh ROOT (the image's root directory)}"
etc="$root/etc"
fail() {
  echo "users.sh: $*" >&2
  exit 1
}
[ -f "$etc/passwd" ] && [ -f "$etc/group" ] || fail "$etc/passwd or $etc/group is missing"

last=$((FIRST_UID + UID_COUNT - 1))
while IFS=: read -r name _ id _; do
  case "$id" in '' | *[!0-9]*) continue ;; esac
  [ "$id" -lt "$FIRST_UID" ] || [ "$id" -gt "$last" ] || fail "$etc/passwd already has uid $id ($name)"
done <"$etc/passwd"
while IFS=: read -r name _ id _; do
  [ "$id" != "$GID" ] || fail "$etc/group already has gid $GID ($name)"
done <"$etc/group"

echo "sandbox:x:$GID:" >>"$etc/group"
if [ -f "$etc/gshadow" ]; then echo "sandbox:!::" >>"$etc/gshadow"; fi
shadow=/dev/null
if [ -f "$etc/shadow" ]; then shadow="$etc/shadow"; fi
n=0
while [ "$n" -lt "$UID_COUNT" ]; do
  if [ "$n" -eq 0 ]; then name=sandbox; else name="sandbox-$n"; fi
  printf '%s:x:%d:%d:%s:/workspace:/usr/sbin/nologin\n' "$name" $((FIRST_UID + n)) "$GID" "$name" >&3
  printf '%s:*:19000:0:99999:7:::\n' "$name" >&4
  n=$((n + 1))
done 3>>"$etc/passwd" 4>>"$shadow"
