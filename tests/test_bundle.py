"""The Docker bundle, checked without a Docker engine (none runs on these machines):
compose.yaml validates against the Compose specification (docker-compose 1.29's `config`,
which needs no engine) and publishes only the handful of ports the bundle promises; the
Dockerfile's runtime stage installs every shared library that `confab`, built as the Dockerfile
builds it (release, static Swift stdlib), needs."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _require(condition: bool, why: str) -> None:
    if condition:
        return
    if os.environ.get("CONFAB_REQUIRE_ALL"):
        pytest.fail(why)
    pytest.skip(why)


def test_compose_file_is_valid_and_publishes_no_port_range():
    compose = shutil.which("docker-compose")
    _require(compose is not None, "docker-compose missing (apt-get install docker-compose)")
    checked = subprocess.run([compose, "-f", str(REPO / "compose.yaml"), "config"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    import yaml  # docker-compose depends on PyYAML, so it is there when docker-compose is

    config = yaml.safe_load(checked.stdout)
    published = []
    for name, service in config["services"].items():
        for port in service.get("ports", []):
            published.append((port["published"] if isinstance(port, dict) else port, port.get("protocol", "tcp")))
    ports = sorted((str(p), proto) for p, proto in published)
    assert all("-" not in p for p, _ in ports), f"no port ranges in the bundle: {ports}"
    assert ports == sorted([("10000", "udp"), ("3478", "udp"), ("3478", "tcp"), ("80", "tcp"), ("443", "tcp"),
                            ("8089", "tcp"), ("5349", "tcp")]), ports
    assert config["services"]["nginx"]["depends_on"]["confab"]["condition"] == "service_healthy"
    assert config["services"]["confab"]["restart"] == "unless-stopped"


def _runtime_packages() -> list[str]:
    dockerfile = (REPO / "Dockerfile").read_text()
    runtime = dockerfile.split("FROM debian:bookworm-slim", 1)[1]
    install = re.search(r"apt-get install[^\n]*\\\n((?:.*\\\n)+?.*)&&", runtime).group(1)
    return [w for w in install.replace("\\", " ").split() if re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", w)]


def _closure(packages: list[str]) -> set[str]:
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                          "--no-breaks", "--no-replaces", "--no-enhances", *packages],
                         capture_output=True, text=True, check=True).stdout
    names = set(packages)
    for line in out.splitlines():
        line = line.strip()
        if line.startswith(("Depends:", "PreDepends:")):
            line = line.split(":", 1)[1].strip()
        names.add(line.strip("<>").split(":")[0])
    return names


def _dockerfile_build_command() -> list[str]:
    """The `swift build ...` of the Dockerfile's build stage, so the check builds what it builds."""
    text = (REPO / "Dockerfile").read_text()
    match = re.search(r"^RUN (swift build [^\\&\n]+)", text, re.M)
    assert match, "no `RUN swift build ...` in the Dockerfile's build stage"
    return match.group(1).split()


def _release_binary_as_the_dockerfile_builds_it() -> Path:
    """Builds confab with the Dockerfile's flags (release, static Swift stdlib) in .build-docker;
    CONFAB_DOCKER_BINARY names an already built one instead."""
    if os.environ.get("CONFAB_DOCKER_BINARY"):
        return Path(os.environ["CONFAB_DOCKER_BINARY"])
    _require(shutil.which("swift") is not None, "swift not on PATH")
    command = _dockerfile_build_command() + ["--scratch-path", str(REPO / ".build-docker")]
    build = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=3600)
    assert build.returncode == 0, f"{' '.join(command)} failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    bin_path = subprocess.run(command + ["--show-bin-path"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
    return Path(bin_path) / "confab"


def test_dockerfile_builds_with_the_swift_release_the_suite_uses():
    _require(shutil.which("swift") is not None, "swift not on PATH")
    image = re.search(r"^FROM swift:(\d+\.\d+)\S*-bookworm AS build", (REPO / "Dockerfile").read_text(), re.M)
    assert image, "the build stage must be an official swift:X.Y-bookworm image"
    local = re.search(r"Swift version (\d+\.\d+)", subprocess.run(["swift", "--version"], capture_output=True,
                                                                   text=True).stdout + "")
    assert local, "cannot read `swift --version`"
    assert image.group(1) == local.group(1), \
        f"Dockerfile builds with Swift {image.group(1)}, the suite with {local.group(1)}: a release the code is not tested on"


@pytest.mark.slow
def test_dockerfile_runtime_stage_covers_every_shared_library():
    """The Dockerfile's release build with the static Swift stdlib, then every library `ldd`
    lists must come from a package the runtime stage installs (or debian:bookworm-slim has), and
    no Swift runtime library may be needed (the runtime image has no toolchain)."""
    binary = _release_binary_as_the_dockerfile_builds_it()
    assert binary.exists(), binary
    packages = _runtime_packages()
    assert {"libsrtp2-1", "libssl3", "libconfig9"} <= set(packages), packages
    # Not in `ldd`: full ICE (media.ice_mode = "full") loads libnice with dlopen at start-up.
    assert "libnice10" in packages, "full ICE needs libnice10 in the runtime stage (loaded at run time)"
    available = _closure(packages) | {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}  # in debian:bookworm-slim
    ldd = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    missing = []
    for line in ldd.splitlines():
        match = re.search(r"=> (/\S+)", line)
        if not match:
            continue
        assert "/swift/" not in match.group(1) and "libswift" not in match.group(1), \
            f"the Swift runtime must be linked in statically (the runtime image has none): {line.strip()}"
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(match.group(1))], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", match.group(1)], capture_output=True, text=True)
        package = owner.stdout.split(":")[0] if owner.returncode == 0 else f"? ({match.group(1)})"
        if package not in available:
            missing.append((match.group(1), package))
    assert not missing, f"the runtime stage lacks packages for: {missing}"
