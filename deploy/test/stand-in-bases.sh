#!/usr/bin/env bash
# STAND-INS for the Dockerfile's two base images, which cannot be pulled
# on this project's CI machines (no Docker Hub, no gcr.io there):
#
#   rust:1.95-slim-bookworm                (Docker Hub)  stood in for by Debian
#       bookworm (debootstrap: gcc, libc6-dev, ca-certificates, as the hub
#       image installs them) plus this machine's own rustup toolchain of the
#       same Rust version, under /usr/local/rustup and /usr/local/cargo with
#       CARGO_HOME, RUSTUP_HOME and PATH as the hub image sets them.
#   gcr.io/distroless/cc-debian12:nonroot  (gcr.io)  stood in for by the
#       files of Debian bookworm's libc6, libgcc-s1, libstdc++6, libssl3,
#       base-files and the CA certificates bundle, with no shell and no
#       package manager, and the user nonroot (65532) it runs as.
#
# They are tagged with the exact names the Dockerfile uses, so that `make
# image` builds on them unchanged; each carries the label
# resilience-lab.stand-in saying what it stands in for. They are not the
# hub images: a laptop pulls the real ones (`make prefetch`).
#
#   deploy/test/stand-in-bases.sh            build whichever is missing
#   deploy/test/stand-in-bases.sh --rebuild  build both again
#
# Needs root (debootstrap), debootstrap, a running Docker engine, rustup
# with a toolchain of the Rust version the Dockerfile names, and a Debian
# mirror (the one apt uses here, or DEBIAN_MIRROR). DOCKER names the
# docker client (default: docker).
set -euo pipefail
cd "$(dirname "$0")/../.."

DOCKER=${DOCKER:-docker}
LABEL=resilience-lab.stand-in
# Where debootstrap keeps the .debs between runs.
CACHE=${STAND_IN_CACHE:-/var/cache/resilience-lab/debootstrap}

fail() { echo "stand-in-bases: $*" >&2; exit 1; }
say() { echo "stand-in-bases: $*"; }

rebuild=false
case "${1:-}" in
    "") ;;
    --rebuild) rebuild=true ;;
    *) echo "usage: deploy/test/stand-in-bases.sh [--rebuild]" >&2; exit 2 ;;
esac

# The two names, read from the Dockerfile (the one place they are written).
rust_image=$(sed -nE 's/^FROM (rust:[^ ]+).*/\1/p' Dockerfile)
runtime_image=$(sed -nE 's/^FROM (gcr\.io\/distroless\/[^ ]+).*/\1/p' Dockerfile)
[ -n "$rust_image" ] && [ -n "$runtime_image" ] ||
    fail "the Dockerfile no longer builds FROM rust:... and gcr.io/distroless/...: update this script to its new bases"
rust_version=$(sed -nE 's/^rust:([0-9]+\.[0-9]+).*/\1/p' <<<"$rust_image")
suite=$(sed -nE 's/.*-(bookworm|trixie|bullseye)$/\1/p' <<<"$rust_image")
[ -n "$rust_version" ] && [ -n "$suite" ] ||
    fail "cannot read the Rust version and the Debian suite from $rust_image"

have() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
if ! $rebuild && have "$rust_image" && have "$runtime_image"; then
    say "both present: $rust_image and $runtime_image (--rebuild builds them again)"
    exit 0
fi

# --- what the build needs ----------------------------------------------------
[ "$(id -u)" -eq 0 ] || fail "run as root: debootstrap needs it"
command -v debootstrap >/dev/null 2>&1 || fail "debootstrap is missing: apt-get install -y debootstrap"
"$DOCKER" info >/dev/null 2>&1 ||
    fail "the Docker engine does not answer to \`$DOCKER info\`: start it (dockerd --storage-driver=vfs &)"
command -v rustup >/dev/null 2>&1 || fail "rustup is not on PATH: the Rust stand-in copies rustup's $rust_version toolchain"

# rustup's toolchain of the Dockerfile's Rust version, whatever its name.
toolchain=""
while read -r name _; do
    if [[ "$(rustup run "$name" rustc --version 2>/dev/null)" == "rustc $rust_version."* ]]; then
        toolchain=$name
        break
    fi
done < <(rustup toolchain list)
[ -n "$toolchain" ] ||
    fail "no rustup toolchain is Rust $rust_version (the Dockerfile's $rust_image): rustup toolchain install $rust_version --profile minimal"
sysroot=$(realpath "$(rustup run "$toolchain" rustc --print sysroot)")
full_version=$(rustup run "$toolchain" rustc --version | cut -d' ' -f2)
host=$(rustup run "$toolchain" rustc -vV | sed -n 's/^host: //p')
rustup_bin=$(realpath "$(command -v rustup)")

# The Debian mirror apt uses here (deb822 or one-line sources), unless set.
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
    mirror=$( (cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true) |
        sed -nE -e 's/^URIs: *(http[^ ]*\/debian)\/?$/\1/p' \
            -e 's/^deb +(\[[^]]*\] +)?(http[^ ]*\/debian)\/? .*/\2/p' | head -n 1)
fi
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d /var/tmp/stand-in-bases.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$CACHE"

# --- Debian bookworm, once for both -----------------------------------------
say "debootstrap $suite from $mirror (the base of both stand-ins)"
started=$(date +%s)
if ! debootstrap --variant=minbase --include=ca-certificates,gcc,libc6-dev \
    --cache-dir="$CACHE" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 20 "$work/debootstrap.log" >&2
    fail "debootstrap of $suite from $mirror failed (its log's end above): check the mirror (DEBIAN_MIRROR=...) and the network"
fi
say "debootstrap took $(( $(date +%s) - started )) s"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin

# --- rust:1.95-slim-bookworm ----------------------------------------------------
say "$rust_image: STAND-IN for the Docker Hub image, with this machine's toolchain $toolchain (rustc $full_version)"
toolchains=$root/usr/local/rustup/toolchains/$full_version-$host
mkdir -p "$toolchains/bin" "$root/usr/local/cargo/bin"
# rustup's minimal profile, as the hub image installs: rustc, cargo and the
# standard library; no docs, clippy or rustfmt.
for tool in cargo rustc rustdoc; do cp -p "$sysroot/bin/$tool" "$toolchains/bin/"; done
cp -pR "$sysroot/lib" "$toolchains/"
cp -p "$rustup_bin" "$root/usr/local/cargo/bin/rustup"
for tool in cargo rustc rustdoc; do ln -s rustup "$root/usr/local/cargo/bin/$tool"; done
printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\nauto_self_update = "disable"\n' \
    "$full_version-$host" >"$root/usr/local/rustup/settings.toml"
tar --numeric-owner -C "$root" --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* -cf - . |
    "$DOCKER" import \
        --change "ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo RUST_VERSION=$full_version" \
        --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "LABEL $LABEL=\"stands in for Docker Hub's $rust_image: Debian $suite and rustc $full_version, built by deploy/test/stand-in-bases.sh\"" \
        --change 'CMD ["bash"]' \
        - "$rust_image" >/dev/null
if ! got=$("$DOCKER" run --rm --network none "$rust_image" cargo --version 2>&1) || [[ "$got" != "cargo $rust_version."* ]]; then
    fail "the stand-in $rust_image does not run cargo $rust_version: $got"
fi
say "$rust_image: $got, $("$DOCKER" run --rm --network none "$rust_image" rustc --version)"

# --- gcr.io/distroless/cc-debian12:nonroot --------------------------------------
say "$runtime_image: STAND-IN for the gcr.io image, from Debian $suite's packages"
runtime=$work/runtime
mkdir -p "$runtime"
# The packages' own files, by dpkg's lists; paths through bookworm's merged
# /usr (/lib -> usr/lib) are taken at their real place.
wanted=(libc6 libgcc-s1 libstdc++6 libssl3 base-files)
for package in "${wanted[@]}"; do
    dpkg-query --admindir="$root/var/lib/dpkg" -L "$package" >/dev/null 2>&1 ||
        fail "Debian's $package is not in the debootstrapped $suite: the stand-in needs it"
done
dpkg-query --admindir="$root/var/lib/dpkg" -L "${wanted[@]}" |
    sed -E 's#^/(bin|sbin|lib|lib64)(/|$)#/usr/\1\2#; s#^/##' |
    grep -v '^$' | sort -u |
    while read -r path; do
        if [ -e "$root/$path" ] || [ -L "$root/$path" ]; then printf '%s\n' "$path"; fi
    done >"$work/files"
for link in bin sbin lib lib64; do
    if [ -L "$root/$link" ]; then echo "$link"; fi
done >>"$work/files"
printf '%s\n' etc/ssl/certs/ca-certificates.crt etc/ld.so.cache >>"$work/files"
tar --numeric-owner -C "$root" --no-recursion -T "$work/files" -cf - | tar -C "$runtime" -xf -
[ -s "$runtime/etc/ssl/certs/ca-certificates.crt" ] || fail "no CA certificates bundle in the debootstrapped $suite"
# distroless's users: root, nonroot (65532) and nobody.
mkdir -p "$runtime/home/nonroot" "$runtime/tmp" "$runtime/root"
chown 65532:65532 "$runtime/home/nonroot"
chmod 1777 "$runtime/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$runtime/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' >"$runtime/etc/group"
tar --numeric-owner -C "$runtime" -cf - . |
    "$DOCKER" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'USER 65532' \
        --change 'WORKDIR /home/nonroot' \
        --change "LABEL $LABEL=\"stands in for gcr.io's $runtime_image: Debian $suite's libc6, libgcc-s1, libstdc++6, libssl3 and CA certificates, built by deploy/test/stand-in-bases.sh\"" \
        - "$runtime_image" >/dev/null
[ ! -e "$runtime/bin/sh" ] && [ ! -e "$runtime/usr/bin/sh" ] || fail "the stand-in $runtime_image has a shell; distroless has none"
say "$runtime_image: $(du -sh "$runtime" | cut -f1), no shell, user 65532"
say "done: both are STAND-INS built here, not the Docker Hub and gcr.io images"
