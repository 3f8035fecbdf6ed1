# Confab: `make run` runs the server on its embedded defaults; `make test` runs every test.
# Both install what a fresh Debian machine is missing first.

SWIFT        ?= swift
PYTHON       ?= python3
APT_PACKAGES  = pkg-config libnice-dev libsrtp2-dev libssl-dev libconfig-dev libopus-dev \
                chromium chromium-driver libjs-janus-gateway iproute2 util-linux \
                nginx libnginx-mod-stream gettext-base openssl docker-compose coturn \
                firefox-esr janus-tools iptables
# Loopback-only private network for the end-to-end tests (falls back to the host's loopback).
NETNS        := $(shell unshare --net true 2>/dev/null && echo "unshare --net --")

.PHONY: run test deps build release swift-test e2e e2e-full-ice check-config clean

run: deps release
	./.build/release/confab $(if $(wildcard confab.cfg),--config confab.cfg,)

test: deps build swift-test e2e e2e-full-ice

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

# The media engine's and the VideoRoom's browser and aiortc suites again with full ICE on libnice
# (media.ice_mode = "full"): only the transport under DTLS differs, and it must pass the same tests.
FULL_ICE_SUITES = tests/test_echotest_aiortc.py tests/test_echotest_browser.py tests/test_videoroom_media.py \
                  tests/test_videoroom_simulcast.py tests/test_site_videoroom.py
e2e-full-ice: build
	$(NETNS) bash -c 'ip link set lo up 2>/dev/null; CONFAB_REQUIRE_ALL=1 CONFAB_ICE_MODE=full exec $(PYTHON) -m pytest -q $(FULL_ICE_SUITES)'

check-config:
	./.build/debug/confab --check-config confab.cfg

clean:
	rm -rf .build
