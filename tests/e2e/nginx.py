"""deploy/nginx.conf run by a test: read what it sets, render it for local processes, start
Debian's nginx on it, read its access log. Also the environment the test gives each bot instance,
which tests/unit/test_compose.py compares with compose.yaml's."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "nginx.conf"
# Where compose.yaml's nginx keeps its files; the test puts them under its own directory.
CONTAINER_PATHS = ("/etc/nginx/certs/", "/var/log/nginx/", "/var/run/")
# What the test sets for itself only: compose talks to the real Telegram.
TEST_ONLY_SETTINGS = frozenset({"HUHUQING_TELEGRAM_API_URL"})
# Debian builds nginx with temporary files in /var/lib/nginx, which only root may write.
_TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


@dataclass(frozen=True)
class NginxConfig:
    """What deploy/nginx.conf says about the instances behind it and the webhook in front."""

    text: str
    upstreams: tuple[str, ...]  # host:port of each instance
    listen_port: int
    webhook_path: str
    certificate: str
    certificate_key: str
    next_upstream: tuple[str, ...]


def read_config(path: Path = CONFIG) -> NginxConfig:
    text = path.read_text(encoding="utf-8")
    return NginxConfig(
        text=text,
        upstreams=tuple(re.findall(r"^\s*server\s+([\w.\-]+:\d+)\b", text, re.M)),
        listen_port=int(_one(r"^\s*listen\s+(\d+)\s+ssl;", text)),
        webhook_path=_one(r"^\s*location\s+=\s+(/\S+)\s+\{", text),
        certificate=_one(r"^\s*ssl_certificate\s+(\S+);", text),
        certificate_key=_one(r"^\s*ssl_certificate_key\s+(\S+);", text),
        next_upstream=tuple(_one(r"^\s*proxy_next_upstream\s+([^;]+);", text).split()),
    )


def _one(pattern: str, text: str) -> str:
    found = re.findall(pattern, text, re.M)
    if len(found) != 1:
        raise ValueError(f"deploy/nginx.conf: expected one match of {pattern!r}, got {found}")
    return found[0]


def render(config: NginxConfig, upstreams: list[str], port: int, directory: Path) -> str:
    """The same file with local addresses and files under ``directory``."""
    if len(upstreams) != len(config.upstreams):
        raise ValueError(f"the file has {len(config.upstreams)} instances, not {len(upstreams)}")
    text = config.text
    for old, new in zip(config.upstreams, upstreams, strict=True):
        text = _replace(text, f"server {old} ", f"server {new} ")
    text = _replace(text, f"listen {config.listen_port} ssl;", f"listen 127.0.0.1:{port} ssl;")
    for path in CONTAINER_PATHS:
        text = _replace(text, path, f"{directory}/")
    temp = "".join(f"    {name}_temp_path {directory}/{name};\n" for name in _TEMP_PATHS)
    return _replace(text, "http {\n", "http {\n" + temp)


def _replace(text: str, old: str, new: str) -> str:
    if old not in text:
        raise ValueError(f"deploy/nginx.conf no longer contains {old!r}: update tests/e2e/nginx.py")
    return text.replace(old, new)


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
    )


def self_signed_certificate(certificate: Path, key: Path) -> None:
    """A certificate for 127.0.0.1 (the test's client trusts it, as Telegram would a real one)."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip


class Nginx:
    """Debian's nginx on a rendered deploy/nginx.conf, in the foreground, files in ``directory``."""

    def __init__(self, binary: str, directory: Path, config: NginxConfig) -> None:
        self.binary, self.directory, self.config = binary, directory, config
        self.process: asyncio.subprocess.Process | None = None

    @property
    def access_log(self) -> Path:
        return self.directory / "access.log"

    @property
    def error_log(self) -> Path:
        return self.directory / "error.log"

    async def start(self, upstreams: list[str], port: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        names = [Path(self.config.certificate).name, Path(self.config.certificate_key).name]
        self_signed_certificate(*(self.directory / name for name in names))
        conf = self.directory / "nginx.conf"
        conf.write_text(render(self.config, upstreams, port, self.directory), encoding="utf-8")
        # As root the workers would run as "nobody", who cannot enter the test's directory.
        directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        self.process = await asyncio.create_subprocess_exec(
            self.binary, "-p", str(self.directory), "-c", str(conf),
            "-e", str(self.error_log), "-g", directives,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await self._listening(port)

    async def _listening(self, port: int) -> None:
        for _ in range(100):
            if self.process is not None and self.process.returncode is not None:
                break
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return
        log = self.error_log.read_text() if self.error_log.exists() else ""
        raise RuntimeError(f"nginx did not start:\n{log}")

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def served(self) -> list[LogLine]:
        """The access log's lines (nginx writes each when the request is over)."""
        return [LogLine.parse(line) for line in self.access_log.read_text().splitlines() if line]


@dataclass(frozen=True)
class LogLine:
    """One line of the ``webhook`` log format of deploy/nginx.conf."""

    uri: str
    status: int
    upstreams: tuple[str, ...]  # every instance nginx tried, in order
    upstream_statuses: tuple[str, ...]

    _PATTERN = re.compile(
        r'"POST (?P<uri>\S+) HTTP/[\d.]+" (?P<status>\d+) '
        r"upstream=(?P<upstreams>.*?) upstream_status=(?P<statuses>.*?) time="
    )

    @classmethod
    def parse(cls, line: str) -> LogLine:
        found = cls._PATTERN.search(line)
        if found is None:
            raise ValueError(f"not a webhook log line: {line!r}")
        return cls(
            uri=found["uri"],
            status=int(found["status"]),
            upstreams=tuple(re.split(r"[,:]\s+", found["upstreams"])),
            upstream_statuses=tuple(re.split(r"[,:]\s+", found["statuses"])),
        )


def instance_environment(
    *,
    name: str,
    listen: str,
    webhook_url: str,
    secret: str,
    token: str,
    database_url: str,
    redis_url: str,
    telegram_api_url: str,
) -> dict[str, str]:
    """The settings of one bot instance behind nginx (compose.yaml sets the same names)."""
    return {
        "HUHUQING_BOT_TOKEN": token,
        "HUHUQING_DATABASE_URL": database_url,
        "HUHUQING_REDIS_URL": redis_url,
        "HUHUQING_WEBHOOK_URL": webhook_url,
        "HUHUQING_WEBHOOK_SECRET": secret,
        "HUHUQING_WEBHOOK_LISTEN": listen,
        "HUHUQING_INSTANCE_NAME": name,
        "HUHUQING_TELEGRAM_API_URL": telegram_api_url,
    }
