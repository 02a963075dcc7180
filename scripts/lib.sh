# shellcheck shell=bash
#
# lib.sh - shell helpers shared by scripts/test and scripts/demo.
#
# Sourced, never executed.  It holds the one list of Debian packages labstack needs to
# build and test, the function that installs the missing ones, and the meson helpers that
# make both scripts idempotent (re-running reconfigures an existing build directory
# instead of failing).  The caller sets `set -euo pipefail`; nothing here changes it.

# Debian 12 packages needed to build labstack and run every test suite.  This is the only
# place the list lives: add a package here and both scripts install it.
#   build:      meson ninja-build pkg-config gcc libc6-dev + the -dev libraries
#   sanitizers: clang libclang-rt-14-dev (gcc's libasan/libubsan come with gcc)
#   tests:      libcmocka-dev; make, python3 and nodejs run inside sandboxes in the
#               integration and hostile-workload tests (and in scripts/demo)
LS_DEBIAN_PACKAGES=(
    meson
    ninja-build
    pkg-config
    gcc
    libc6-dev
    libseccomp-dev
    libcap-dev
    libnl-3-dev
    libnl-route-3-dev
    libjansson-dev
    libcmocka-dev
    libarchive-dev
    libssl-dev
    libmicrohttpd-dev
    openssl
    prometheus
    clang
    libclang-rt-14-dev
    make
    python3
    nodejs
)

# Print a headline: a blank line, then "==> text" (bold when stdout is a terminal).
ls_headline() {
    if [[ -t 1 ]]; then
        printf '\n\033[1m==> %s\033[0m\n' "$*"
    else
        printf '\n==> %s\n' "$*"
    fi
}

# Print a message on stderr.
ls_warn() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# Print a message on stderr and exit 1.
ls_die() {
    ls_warn "$*"
    exit 1
}

# cd to the root of the repository (the parent of the directory holding this file), so the
# scripts work from any working directory.
ls_cd_repo_root() {
    cd "$(dirname "${BASH_SOURCE[0]}")/.." || ls_die "cannot cd to the repository root"
}

# True when a Debian package is installed (not merely known or half-configured).
ls_pkg_installed() {
    local status
    status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || return 1
    [[ $status == installed ]]
}

# Install whatever is missing from LS_DEBIAN_PACKAGES.  Runs `apt-get update` only when
# something must be installed, so a machine that has everything is never touched.
ls_ensure_deps() {
    local pkg missing=()

    command -v dpkg-query >/dev/null || ls_die "dpkg-query not found: this script expects Debian 12"
    for pkg in "${LS_DEBIAN_PACKAGES[@]}"; do
        ls_pkg_installed "$pkg" || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if ((EUID != 0)); then
        ls_die "missing Debian packages: ${missing[*]} (run as root to install them)"
    fi
    ls_headline "Installing build dependencies: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ls_meson_setup DIR [OPTIONS...]: configure DIR with OPTIONS, whatever state it is in.
# An existing, configured DIR is reconfigured (options given here override, the others are
# kept); a DIR that exists but was never configured successfully is wiped first.
ls_meson_setup() {
    local dir=$1
    shift
    if [[ -f $dir/meson-private/coredata.dat ]]; then
        meson setup --reconfigure "$dir" "$@" && return 0
        ls_warn "reconfiguring $dir failed; wiping it and configuring from scratch"
        meson setup --wipe "$dir" "$@"
    else
        rm -rf -- "$dir"
        meson setup "$dir" "$@"
    fi
}
