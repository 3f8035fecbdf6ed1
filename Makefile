# Confab: `make run` runs the server on its embedded defaults; `make test` runs every test.
# Both install what a fresh Debian machine is missing first.

SWIFT        ?= swift
PYTHON       ?= python3
APT_PACKAGES  = pkg-config libnice-dev libsrtp2-dev libssl-dev libconfig-dev libopus-dev \
                chromium chromium-driver libjs-janus-gateway iproute2 util-linux \
                nginx libnginx-mod-stream gettext-base openssl docker-compose coturn \
                firefox-esr janus-tools
# Loopback-only private network for the end-to-end tests (falls back to the host's loopback).
NETNS        := $(shell unshare --net true 2>/dev/null && echo "unshare --net --")

.PHONY: run test deps build release swift-test e2e check-config clean

run: deps release
	./.build/release/confab $(if $(wildcard confab.cfg),--config confab.cfg,)

test: deps build swift-test e2e

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@$(PYTHON) -c "import pytest, requests, websockets, selenium, aiortc, numpy" 2>/dev/null || \
	  $(PYTHON) -m pip install -q -r tests/requirements.txt

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

swift-test:
	$(SWIFT) test

# End-to-end tests against the real binary, in a private network namespace whose only
# interface is loopback when the machine allows it.
e2e: build
	$(NETNS) bash -c 'ip link set lo up 2>/dev/null; CONFAB_REQUIRE_ALL=1 exec $(PYTHON) -m pytest -q tests'

check-config:
	./.build/debug/confab --check-config confab.cfg

clean:
	rm -rf .build
