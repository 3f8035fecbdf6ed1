# Confab in a container. A first version: the appliance-bundle issue completes it
# (static stdlib, HEALTHCHECK tuning, smaller runtime image).

FROM swift:6.1-bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        pkg-config libnice-dev libsrtp2-dev libssl-dev libconfig-dev libopus-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product confab \
    && install -D "$(swift build -c release --show-bin-path)/confab" /out/confab

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libnice10 libsrtp2-1 libssl3 libconfig9 libopus0 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /srv/confab confab
COPY --from=build /usr/lib/swift/linux/*.so* /usr/lib/swift/linux/
COPY --from=build /out/confab /usr/local/bin/confab
COPY html /srv/confab/html
COPY confab.cfg /etc/confab/confab.cfg
ENV LD_LIBRARY_PATH=/usr/lib/swift/linux CONFAB_SITE_ROOT=/srv/confab/html
USER confab
WORKDIR /srv/confab
EXPOSE 8088/tcp 8188/tcp 10000/udp 3478/udp 3478/tcp
HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS http://127.0.0.1:8088/janus/info >/dev/null || exit 1
ENTRYPOINT ["/usr/local/bin/confab", "--config", "/etc/confab/confab.cfg"]
