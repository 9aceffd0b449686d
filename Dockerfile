# One image for every lab role: `lab dep`, `lab api`, `lab worker` (the
# Kubernetes manifests pick the role with `args`).
#
# It builds offline: `make image` runs with `--network none`, from the
# crates `make prefetch` vendors into .lab/image-crates/ (deploy/vendor-lab.sh):
# the workspace's manifest with the lab its only member, Cargo.lock pruned to
# the lab's packages, and those crates. Cargo reads them through a source
# replacement given with `--config` here, so it holds only inside this build;
# `--locked` refuses any lockfile change, `--offline` any download.
# The vendored crates are copied before the lab's sources, so after an edit
# in lab/ only the lab's layer and build rerun; a BuildKit cache mount keeps
# the target folder, so only the lab crate recompiles.
# No `# syntax=` line: the Dockerfile frontend built into BuildKit (Docker
# 20.10 and later) knows `RUN --mount`, and a syntax line would fetch a
# frontend image on every build, which fails offline.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY .lab/image-crates/ ./
COPY lab/ lab/
RUN --mount=type=cache,target=/src/target \
    cargo build --release --locked --offline \
        --config 'source.crates-io.replace-with="vendored-crates"' \
        --config 'source.vendored-crates.directory="/src/crates"' \
        --package lab --bin lab \
    && cp target/release/lab /usr/local/bin/lab

# distroless: glibc and CA certificates, no shell, no package manager; runs
# as an unprivileged user.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/lab /usr/local/bin/lab
# 65532 is distroless's `nonroot` user, numeric so that Kubernetes can check it.
USER 65532:65532
EXPOSE 8080 8081 9000
ENTRYPOINT ["/usr/local/bin/lab"]
CMD ["api"]
