# syntax=docker/dockerfile:1
# carnetd in a container: `docker build -t carnet .`, then
#   docker run -d --name carnet -p 127.0.0.1:8787:8787 -v carnet-data:/data \
#     -e CARNET_PUBLIC_URL=https://carnet.example.net carnet
# The data directory (vault, identity, owner token) is the volume /data. See README.md,
# "Running carnetd in a container".

# --- build: the official Rust image, Debian bookworm (the runtime's glibc) ---
FROM rust:1.90-slim-bookworm AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and target dir between builds; the binaries are copied out
# of the cached target dir, which the final stage cannot see.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin carnetd --bin carnet \
    && install -D -m 0755 target/release/carnetd target/release/carnet -t /out/

# --- runtime: slim Debian, no compiler, a non-root user ---
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 carnet \
    && useradd --system --uid 10001 --gid carnet --home-dir /data --shell /usr/sbin/nologin carnet \
    && install -d -o carnet -g carnet -m 0700 /data
COPY --from=build /out/carnetd /out/carnet /usr/local/bin/
USER carnet:carnet
ENV CARNET_DATA_DIR=/data \
    CARNET_LISTEN=0.0.0.0:8787
VOLUME /data
EXPOSE 8787
# SIGTERM (docker stop) lets requests in flight finish and commits queued writes; allow it the
# time (docker stop -t 30). No curl in the image: bash's /dev/tcp asks /healthz, which answers
# 200 whether the vault is open or sealed (waiting for `carnet unlock`).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8787 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/carnetd"]
CMD ["serve"]
