# syntax=docker/dockerfile:1
# Multi-stage build: compile in the Rust image, run in a slim Debian image as a non-root user.

FROM rust:1.95-bookworm AS builder
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev \
 && rm -rf /var/lib/apt/lists/*
# Build the dependencies alone first so source edits do not rebuild them.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir -p src migrations \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src
COPY src src
COPY migrations migrations
# The document's examples (openapi/examples.json) are compiled in.
COPY openapi/examples.json openapi/examples.json
ARG SOLEUS_BUILD_COMMIT
ENV SOLEUS_BUILD_COMMIT=${SOLEUS_BUILD_COMMIT}
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin soleus-api

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin soleus \
 && mkdir -p /data && chown soleus:soleus /data
COPY --from=builder /app/target/release/soleus-api /usr/local/bin/soleus-api
USER soleus
ENV SOLEUS_HOST=0.0.0.0 \
    SOLEUS_PORT=8080 \
    SOLEUS_DATA_DIR=/data \
    RUST_LOG=info
VOLUME ["/data"]
EXPOSE 8080
# `soleus-api healthcheck` GETs /healthz on the configured port; no curl in the image.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 CMD ["soleus-api", "healthcheck"]
ENTRYPOINT ["soleus-api"]
