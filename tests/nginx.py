"""A real nginx (Debian's package) in front of test servers, with docs/deploy.md's config.

The ``location /events/`` block is read from docs/deploy.md, so the page is what the
tests run; only ``proxy_read_timeout`` is shortened. The other paths the tests use
(login, publish, hub stats) pass through a plain ``location /``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.services import ROOT, Server, free_port, port_open, wait_until

DEPLOY_DOC = ROOT / "docs" / "deploy.md"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_installed() -> bool:
    return Path(NGINX).exists()


def documented_location() -> str:
    """The ```nginx block of docs/deploy.md."""
    blocks = re.findall(r"```nginx\n(.*?)```", DEPLOY_DOC.read_text(), re.DOTALL)
    (block,) = blocks
    return str(block)


class Nginx:
    """nginx on a free port, proxying to ``servers`` (one upstream, round robin)."""

    def __init__(self, servers: list[Server], read_timeout: str = "2s") -> None:
        self.servers = servers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.read_timeout = read_timeout
        self.folder = Path(tempfile.mkdtemp(prefix="django-sse-nginx-"))
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        location = documented_location()
        location, replaced = re.subn(
            r"proxy_read_timeout \S+;", f"proxy_read_timeout {self.read_timeout};", location
        )
        assert replaced == 1, "docs/deploy.md's block lost its proxy_read_timeout"
        upstream = "".join(f"    server 127.0.0.1:{s.port};\n" for s in self.servers)
        temp = self.folder
        return f"""
daemon off;
master_process off;
pid {temp}/nginx.pid;
error_log {temp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  upstream django {{
{upstream}  }}
  server {{
    listen 127.0.0.1:{self.port};
{location}
    location / {{
      proxy_pass http://django;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }}
  }}
}}
"""

    def start(self) -> Nginx:
        conf = self.folder / "nginx.conf"
        conf.write_text(self.config())
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.folder), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_until(self._ready, timeout=15)
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            assert self.process.stderr is not None
            raise RuntimeError(f"nginx exited: {self.process.stderr.read().decode()}")
        return port_open(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)
