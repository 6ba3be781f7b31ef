#!/usr/bin/env bash
# Builds the sandbox image (DESIGN §8): ${ATOMIC_SANDBOX_IMAGE:-atomic-sandbox:latest}.
#
#   npm run sandbox:image            # build unless the image already exists
#   npm run sandbox:image -- --force # rebuild
#
# Two ways, same result (python3 + node + coreutils, user `sandbox` uid/gid 10001, WORKDIR /workspace):
#   1. `docker build` from host-agent/sandbox/Dockerfile, when its base image is present or can be pulled;
#   2. offline, for machines without a container registry: debootstrap a minimal Debian bookworm from
#      this machine's Debian mirror and `docker import` it. Needs root (debootstrap chroots).
#
# Environment: ATOMIC_SANDBOX_IMAGE (image name), ATOMIC_SANDBOX_BUILD=auto|dockerfile|debootstrap,
# ATOMIC_DEBIAN_MIRROR (mirror URL for debootstrap; default: the one in /etc/apt/sources.list*).
set -euo pipefail

IMAGE="${ATOMIC_SANDBOX_IMAGE:-atomic-sandbox:latest}"
MODE="${ATOMIC_SANDBOX_BUILD:-auto}"
SUITE="bookworm"
BASE_IMAGE="debian:bookworm-slim"
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOCKERFILE_DIR="$ROOT_DIR/host-agent/sandbox"
# python3 rather than python3-minimal: generated programs expect the standard library (json, re, ...),
# which python3-minimal leaves out. coreutils/tar/dash come with minbase; the host's sandbox
# controller relies on sh, head and tar to unpack a run's files.
PACKAGES="python3,nodejs"
FORCE=0

log() { printf '[sandbox:image] %s\n' "$*" >&2; }
die() { printf '[sandbox:image] error: %s\n' "$*" >&2; exit 1; }

for arg in "$@"; do
  case "$arg" in
    --force|-f) FORCE=1 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (known: --force)" ;;
  esac
done

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed (apt-get install -y docker.io)"
if ! docker_info_err="$(docker info --format '{{.ServerVersion}}' 2>&1 >/dev/null)"; then
  die "Docker is not reachable (${DOCKER_HOST:-unix:///var/run/docker.sock}): start dockerd or set DOCKER_HOST. docker said: ${docker_info_err}"
fi

if [[ "$FORCE" -eq 0 ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "image $IMAGE already exists (use --force to rebuild)"
  exit 0
fi

verify() {
  log "verifying $IMAGE"
  local py node uid
  py="$(docker run --rm --network none "$IMAGE" python3 -c 'print(1)')" || die "python3 does not run in $IMAGE"
  node="$(docker run --rm --network none "$IMAGE" node -e 'console.log(1)')" || die "node does not run in $IMAGE"
  uid="$(docker run --rm --network none "$IMAGE" id -u)" || die "id does not run in $IMAGE"
  [[ "$py" == "1" && "$node" == "1" ]] || die "unexpected output from $IMAGE: python3 said '$py', node said '$node'"
  [[ "$uid" == "10001" ]] || die "$IMAGE runs as uid $uid, expected 10001"
  log "ok: python3 and node run as uid 10001 ($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1000000}'))"
}

build_with_dockerfile() {
  log "building $IMAGE from $DOCKERFILE_DIR/Dockerfile"
  docker build --pull=false -t "$IMAGE" "$DOCKERFILE_DIR"
}

# Prints the first Debian mirror this machine's apt uses for $SUITE (deb822 .sources or one-line lists).
debian_mirror() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$file" ]] || continue
    awk -v suite="$SUITE" '
      function flush() { if (uris != "" && suites ~ ("(^| )" suite "( |$)")) { split(uris, u, " "); print u[1]; found = 1; exit } uris = ""; suites = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
      /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
      END { if (!found) flush() }
    ' "$file"
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$file" ]] || continue
    # deb [options] URI SUITE components...
    sed -E 's/\[[^]]*\]//' "$file" | awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2 }'
  done
}

build_with_debootstrap() {
  [[ "$(id -u)" -eq 0 ]] || die "the offline build needs root (debootstrap chroots); run it as root or give Docker a base image"
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null || die "could not install debootstrap"
  fi
  local mirror="${ATOMIC_DEBIAN_MIRROR:-}"
  [[ -n "$mirror" ]] || mirror="$(debian_mirror | head -n 1)"
  [[ -n "$mirror" ]] || die "no Debian $SUITE mirror found in /etc/apt/sources.list*; set ATOMIC_DEBIAN_MIRROR"

  # Global, not local: the EXIT trap runs after this function has returned.
  WORK_DIR="$(mktemp -d /var/tmp/atomic-sandbox-rootfs.XXXXXX)"
  trap 'rm -rf --one-file-system "$WORK_DIR"' EXIT
  local work="$WORK_DIR" rootfs="$WORK_DIR/rootfs"

  log "debootstrap $SUITE (minbase + $PACKAGES) from $mirror (about 30-60 s)"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

  log "adding user sandbox (10001) and trimming caches and docs"
  echo 'sandbox:x:10001:10001:sandbox:/workspace:/usr/sbin/nologin' >>"$rootfs/etc/passwd"
  echo 'sandbox:x:10001:' >>"$rootfs/etc/group"
  echo 'sandbox:*:19000:0:99999:7:::' >>"$rootfs/etc/shadow"
  mkdir -p "$rootfs/workspace"
  chown 10001:10001 "$rootfs/workspace"
  chmod 0700 "$rootfs/workspace"
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/lintian "$rootfs"/var/log/* "$rootfs"/debootstrap
  find "$rootfs/usr/lib/python3" -depth -name __pycache__ -type d -exec rm -rf {} + 2>/dev/null || true

  log "importing $IMAGE"
  tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'USER 10001:10001' \
    --change 'WORKDIR /workspace' \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
    --change 'ENV PYTHONUNBUFFERED=1' \
    --change 'LABEL atomic.sandbox.image=1' \
    --change 'CMD ["/bin/sh"]' \
    --message "atomic sandbox: debootstrap $SUITE minbase + $PACKAGES" \
    - "$IMAGE" >/dev/null
}

base_available() {
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0
  log "trying to pull $BASE_IMAGE"
  timeout 60 docker pull -q "$BASE_IMAGE" >/dev/null 2>&1
}

# With --force the image being replaced would be left as a dangling <none> image; remember it.
PREVIOUS_ID="$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"

case "$MODE" in
  dockerfile) build_with_dockerfile ;;
  debootstrap) build_with_debootstrap ;;
  auto)
    if base_available; then
      build_with_dockerfile
    else
      log "$BASE_IMAGE cannot be pulled here: building offline"
      build_with_debootstrap
    fi
    ;;
  *) die "ATOMIC_SANDBOX_BUILD must be auto, dockerfile or debootstrap (got '$MODE')" ;;
esac

verify
if [[ -n "$PREVIOUS_ID" && "$PREVIOUS_ID" != "$(docker image inspect --format '{{.Id}}' "$IMAGE")" ]]; then
  docker image rm "$PREVIOUS_ID" >/dev/null 2>&1 \
    && log "removed the previous image ${PREVIOUS_ID:7:12}" \
    || log "the previous image ${PREVIOUS_ID:7:12} is still in use; remove it later with: docker image prune"
fi
log "done: $IMAGE"
