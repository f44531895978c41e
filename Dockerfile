# Multi-stage build of the `kes` server and CLI. The runtime image runs as a non-root user,
# keeps its data in /data (a volume) and listens on 7373.
#
#   docker build -t kes-rs .
#   docker run -p 7373:7373 -v kes-data:/data kes-rs
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p kes-server --bin kes

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 7373 --home-dir /data --shell /usr/sbin/nologin kes \
 && install -d -o kes -g kes -m 0700 /data
COPY --from=build /src/target/release/kes /usr/local/bin/kes
USER kes
VOLUME /data
EXPOSE 7373
ENTRYPOINT ["/usr/local/bin/kes"]
# With a mounted KES config file instead: docker run ... kes-rs server --config /etc/kes/config.yml
CMD ["server", "--data", "/data", "--addr", "0.0.0.0:7373"]
