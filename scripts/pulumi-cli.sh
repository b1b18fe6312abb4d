#!/usr/bin/env bash
# Provides the Pulumi CLI, the Node.js language host and the dynamic-provider plugin, and prints
# the directory holding them:
#
#     PATH="$(scripts/pulumi-cli.sh):$PATH"
#
# In this order:
#   1. PULUMI_CLI_DIR, if set: that directory's pulumi, used as is (it must be at least the
#      minimum CLI version the @pulumi/pulumi SDK supports).
#   2. A pulumi on PATH with its language host, at least that minimum version, used as is.
#   3. A build at the version of @pulumi/pulumi in package-lock.json from Go modules, into a
#      per-version cache outside the repository, once.
#
# The printed directory is always named `bin`, so the Automation API can also be pointed at
# it with PulumiCommand.get({ root: "<dir>/.." }).
#
# Environment: PULUMI_CLI_DIR; SMP_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/session-manager-preferences).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_root="${SMP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/session-manager-preferences}"
shim_name="pulumi-resource-pulumi-nodejs"
host_name="pulumi-language-nodejs"

# The language host moved out of the SDK module into its own Go module after v3.68.0. Some
# module proxies do not serve that module; v3.68.0 is then the newest host we can build. It
# speaks the same language-host gRPC protocol, which newer CLIs still accept.
legacy_host_sdk_version="3.68.0"

log() { printf 'pulumi-cli: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

command -v node >/dev/null 2>&1 || die "node is not on PATH; install Node.js (see package.json engines)"

version="$(node -e '
    const lock = require(process.argv[1]);
    const entry = (lock.packages || {})["node_modules/@pulumi/pulumi"] || (lock.dependencies || {})["@pulumi/pulumi"];
    if (!entry || !entry.version) process.exit(1);
    console.log(entry.version);
' "$root/package-lock.json")" || die "package-lock.json has no @pulumi/pulumi entry"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "unexpected @pulumi/pulumi version in package-lock.json: $version"

shim_from_node_modules() {
    local shim="$root/node_modules/@pulumi/pulumi/$shim_name"
    [[ -f "$shim" ]] && printf '%s\n' "$shim"
}

# --- 1 and 2. A CLI the user chose, or one on PATH ---------------------------------------

# The oldest CLI the SDK's Automation API accepts (it checks the same at run time).
minimum_version="$(node -e '
    const { minimumVersion } = require(require.resolve("@pulumi/pulumi/automation/minimumVersion", { paths: [process.argv[1]] }));
    console.log(minimumVersion.version);
' "$root" 2>/dev/null)" || die "node_modules is missing: run npm ci first"

at_least_minimum() { # <version without v>
    node -e '
        const semver = require(require.resolve("semver", { paths: [require.resolve("@pulumi/pulumi", { paths: [process.argv[1]] })] }));
        process.exit(semver.valid(process.argv[2]) && semver.gte(process.argv[2], process.argv[3]) ? 0 : 1);
    ' "$root" "$1" "$minimum_version"
}

# Prints a `bin` directory holding pulumi, the language host and the shim found beside
# `pulumi` or on PATH; fails when something is missing or the CLI is too old.
usable_dir() { # <pulumi> <where it came from, for messages>
    local pulumi="$1" from="$2" have dir host shim link_dir
    have="$(PULUMI_SKIP_UPDATE_CHECK=true "$pulumi" version 2>/dev/null)" || die "$from: $pulumi does not run"
    have="${have#v}"
    at_least_minimum "$have" || die "$from: pulumi v$have is older than v$minimum_version, the oldest the @pulumi/pulumi SDK in package-lock.json supports; install a newer one"
    dir="$(dirname "$pulumi")"
    if [[ "$(basename "$dir")" == bin && -x "$dir/$host_name" && -x "$dir/$shim_name" ]]; then
        printf '%s\n' "$dir"
        return 0
    fi
    # The three are spread over PATH, or the shim is missing: gather them in one directory.
    host="$([[ -x "$dir/$host_name" ]] && printf '%s' "$dir/$host_name" || command -v "$host_name" 2>/dev/null)" ||
        die "$from: found pulumi v$have but not its Node.js language host ($host_name) beside it or on PATH"
    shim="$([[ -x "$dir/$shim_name" ]] && printf '%s' "$dir/$shim_name" || command -v "$shim_name" 2>/dev/null || shim_from_node_modules)" ||
        die "$from: found pulumi v$have but not $shim_name; run npm ci first"
    link_dir="$cache_root/pulumi-v$have-from-path/bin"
    mkdir -p "$link_dir"
    ln -sfn "$pulumi" "$link_dir/pulumi"
    ln -sfn "$host" "$link_dir/$host_name"
    ln -sfn "$shim" "$link_dir/$shim_name"
    printf '%s\n' "$link_dir"
}

if [[ -n "${PULUMI_CLI_DIR:-}" ]]; then
    [[ -x "$PULUMI_CLI_DIR/pulumi" ]] || die "PULUMI_CLI_DIR=$PULUMI_CLI_DIR holds no executable pulumi"
    usable_dir "$PULUMI_CLI_DIR/pulumi" "PULUMI_CLI_DIR"
    exit 0
fi

if on_path="$(command -v pulumi 2>/dev/null)"; then
    usable_dir "$on_path" "PATH"
    exit 0
fi

# --- 2. The per-version cache ---------------------------------------------------------------

final="$cache_root/pulumi-v$version"
complete() { [[ -x "$final/bin/pulumi" && -x "$final/bin/$host_name" && -x "$final/bin/$shim_name" ]]; }

# The directory only appears by rename once everything is in it, so this needs no lock.
if complete; then
    printf '%s\n' "$final/bin"
    exit 0
fi

# --- 3. Build from Go modules ---------------------------------------------------------------

command -v go >/dev/null 2>&1 || die "pulumi v$version is not on PATH, and \`go\` is not installed to build it.
  Install Go (1.21 or newer; it fetches the newer toolchain the Pulumi modules need by itself),
  e.g. with your package manager (golang-go, golang or go), then run this again.
  Or install the Pulumi CLI (v$minimum_version or newer, with its Node.js language host
  $host_name) and put it on PATH, or name its directory in PULUMI_CLI_DIR."
go_minor="$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
[[ -z "$go_minor" || "$go_minor" -ge 21 ]] ||
    die "$(go env GOVERSION) is too old to build pulumi v$version (needs Go 1.21+, which can fetch newer toolchains)"

mkdir -p "$cache_root"
lock="$cache_root/pulumi-v$version.lock"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$lock"
    if ! flock -n 9; then
        log "another process is building pulumi v$version; waiting for it"
        flock 9
    fi
    unlock() { :; }
else
    # No flock(1) (macOS): a lock directory holding the owner's pid, taken over when that
    # process is gone.
    until mkdir "$lock.d" 2>/dev/null; do
        owner="$(cat "$lock.d/pid" 2>/dev/null || true)"
        if [[ -n "$owner" ]] && ! kill -0 "$owner" 2>/dev/null; then
            rm -rf "$lock.d"
            continue
        fi
        [[ -n "${waiting:-}" ]] || log "another process is building pulumi v$version; waiting for it"
        waiting=1
        sleep 2
    done
    echo $$ >"$lock.d/pid"
    unlock() { rm -rf "$lock.d"; }
fi
if complete; then
    unlock
    printf '%s\n' "$final/bin"
    exit 0
fi

# Leftovers of builds that were killed: we hold the lock, so nobody else is using them.
rm -rf "$cache_root/.pulumi-v$version.building."*
work="$(mktemp -d "$cache_root/.pulumi-v$version.building.XXXXXX")"
heartbeat=""
cleanup() {
    if [[ -n "$heartbeat" ]]; then kill "$heartbeat" 2>/dev/null || true; fi
    rm -rf "$work"
    unlock
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_log="$cache_root/pulumi-v$version.build.log"
: >"$build_log"
started=$SECONDS

# Static binaries like the upstream releases, and no C toolchain needed. GOWORK=off keeps a
# go.work of the caller's out of the wrapper modules.
export CGO_ENABLED=0 GOWORK=off

go_json_field() { # <field> reads one `go ... -json` object from stdin
    node -e '
        let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
            const v = JSON.parse(s)[process.argv[1]];
            if (v) console.log(v);
        });' "$1"
}

# Replace directives of <module>@<version> that point at other module versions. Those live in
# the upstream go.mod, which Go ignores for dependencies, so a wrapper must repeat them;
# directory replacements only make sense inside the upstream repository and are left out.
upstream_replaces() {
    local gomod
    gomod="$(go mod download -json "$1" 2>>"$build_log" | go_json_field GoMod)" || return 1
    [[ -n "$gomod" ]] || return 1
    go mod edit -json "$gomod" | node -e '
        let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
            for (const r of JSON.parse(s).Replace || []) {
                if (!r.New.Version) continue;
                const old = r.Old.Version ? `${r.Old.Path}@${r.Old.Version}` : r.Old.Path;
                console.log(`${old}=${r.New.Path}@${r.New.Version}`);
            }
        });'
}

# build <name> <module@version whose go.mod is upstream's main module> <package@version> <ldflags> [extra module@version pins...]
# Every step is checked by hand: errexit does not apply inside a function called with `||`.
build() {
    local name="$1" main_module="$2" package="$3" ldflags="$4"
    shift 4
    local dir="$work/modules/$name" replaces replace
    replaces="$(upstream_replaces "$main_module")" || return 1
    mkdir -p "$dir" || return 1
    (cd "$dir" && go mod init "smp.local/$name") >>"$build_log" 2>&1 || return 1
    while IFS= read -r replace; do
        [[ -z "$replace" ]] || (cd "$dir" && go mod edit -replace="$replace") || return 1
    done <<<"$replaces"
    (cd "$dir" && go get "$package" "$@") >>"$build_log" 2>&1 || return 1
    (cd "$dir" && go build -ldflags "$ldflags" -o "$work/bin/$name" "${package%@*}") >>"$build_log" 2>&1 || return 1
}

fail() {
    log "error: $1 (log: $build_log)"
    tail -n 20 "$build_log" | sed 's/^/    /' >&2
    exit 1
}

# Prints elapsed time while `go` is silent for minutes. It must not keep our stdout, stderr or
# lock open after we exit (callers wait on those), hence the killable sleep and closed fd 9.
heartbeat_loop() {
    local pid=""
    trap 'if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null; fi; exit 0' TERM
    while :; do
        sleep 60 &
        pid=$!
        wait "$pid" || true
        log "  still building ($(((SECONDS - started) / 60)) min)"
    done
}

version_flag="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
# Measured on 2 busy cores: 16-28 min with empty Go caches, 6 min with the modules already
# downloaded, 30 s when Go's build cache already holds everything.
log "building pulumi CLI v$version from Go modules (first run only, ~15-30 min with empty Go caches)..."
log "cache: $final"
heartbeat_loop </dev/null >/dev/null 9>&- &
heartbeat=$!

log "[1/3] pulumi v$version"
build pulumi "github.com/pulumi/pulumi/pkg/v3@v$version" \
    "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$version" "-s -w $version_flag=v$version" \
    "github.com/pulumi/pulumi/sdk/v3@v$version" ||
    fail "building pulumi v$version failed"

host_module="github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3"
if go mod download -json "$host_module@v$version" >>"$build_log" 2>&1; then
    host_from="$host_module@v$version"
    log "[2/3] $host_name v$version"
    build "$host_name" "$host_from" "$host_from" "-s -w $version_flag=v$version" \
        "github.com/pulumi/pulumi/sdk/v3@v$version" ||
        fail "building $host_name v$version failed"
else
    host_from="github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/$host_name@v$legacy_host_sdk_version"
    log "[2/3] $host_name: the Go module proxy does not serve $host_module;"
    log "      building v$legacy_host_sdk_version, the newest release that ships it inside the SDK module"
    build "$host_name" "github.com/pulumi/pulumi/sdk/v3@v$legacy_host_sdk_version" "$host_from" \
        "-s -w $version_flag=v$legacy_host_sdk_version" ||
        fail "building $host_name v$legacy_host_sdk_version failed"
fi

log "[3/3] $shim_name"
sdk_dir="$(go mod download -json "github.com/pulumi/pulumi/sdk/v3@v$version" 2>>"$build_log" | go_json_field Dir)" ||
    fail "downloading github.com/pulumi/pulumi/sdk/v3@v$version failed"
[[ -f "$sdk_dir/nodejs/dist/$shim_name" ]] || fail "$shim_name is missing from the SDK module at $sdk_dir"
cp "$sdk_dir/nodejs/dist/$shim_name" "$work/bin/$shim_name"
chmod 0755 "$work/bin/$shim_name"

[[ "$("$work/bin/pulumi" version 2>/dev/null)" == "v$version" ]] || fail "the built pulumi does not report v$version"
cat >"$work/BUILD-INFO" <<EOF
pulumi                         github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$version
$host_name         $host_from
$shim_name  github.com/pulumi/pulumi/sdk/v3@v$version nodejs/dist
built $(date -u +%Y-%m-%dT%H:%M:%SZ) with $(go env GOVERSION) in $((SECONDS - started)) s
EOF
chmod 0755 "$work"
rm -rf "$final"
mv "$work" "$final"
log "built pulumi v$version in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
printf '%s\n' "$final/bin"
