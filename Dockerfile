# One image for every lab role: `lab dep`, `lab api`, `lab worker` (the
# Kubernetes manifests pick the role with `args`).
#
# Dependencies are cached between builds by BuildKit cache mounts for
# cargo's registry and the target folder: after an edit in lab/, only the
# lab crate recompiles. `make dev` builds this image and imports it into k3d.
# No `# syntax=` line: the Dockerfile frontend built into BuildKit (Docker
# 23 and later) knows `RUN --mount`, and a syntax line would fetch a
# frontend image on every build, which fails offline.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --package lab --bin lab \
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
