# Confab in a container: a Swift build stage and a slim Debian runtime with only the C libraries
# the binary links (tests/test_bundle.py checks that list against `ldd` of a real build).

# The same Swift release the suite builds and tests with (tests/test_bundle.py checks).
FROM swift:6.3-bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        pkg-config libnice-dev libsrtp2-dev libssl-dev libconfig-dev libopus-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
# The Swift runtime is linked in statically, so the runtime image needs no Swift toolchain.
RUN swift build -c release --static-swift-stdlib --product confab \
    && install -D "$(swift build -c release --static-swift-stdlib --show-bin-path)/confab" /out/confab

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libnice10 libsrtp2-1 libssl3 libconfig9 libopus0 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /srv/confab confab
COPY --from=build /out/confab /usr/local/bin/confab
COPY html /srv/confab/html
COPY confab.cfg /etc/confab/confab.cfg
ENV CONFAB_SITE_ROOT=/srv/confab/html
USER confab
WORKDIR /srv/confab
# HTTP API + pages, WebSocket API, all media (one UDP port), STUN/TURN.
EXPOSE 8088/tcp 8188/tcp 10000/udp 3478/udp 3478/tcp
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
    CMD curl -fsS http://127.0.0.1:8088/janus/info >/dev/null || exit 1
ENTRYPOINT ["/usr/local/bin/confab", "--config", "/etc/confab/confab.cfg"]
