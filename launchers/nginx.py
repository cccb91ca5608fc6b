"""A real nginx: deploy/nginx.conf or deploy/nginx-frontend.conf rendered with the given ports, in the foreground."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from launchers.process import ROOT, free_port, stop_process, wait_http

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TEMPLATE = ROOT / "deploy" / "nginx.conf"
FRONTEND_TEMPLATE = ROOT / "deploy" / "nginx-frontend.conf"


def nginx_available() -> bool:
    return Path(NGINX).exists()


def render(
    template: str, listen_port: int, backend_ports: list[int], workdir: Path, upstream: str = "parlor_backend"
) -> str:
    """Point the upstream at the test's servers, listen on loopback, keep every path inside `workdir`."""
    server_line = re.compile(r"^(\s*)server [\w.-]+:\d+( [^;]*)?;\n", re.M)
    indent, options = server_line.findall(template)[0]
    servers = "".join(f"{indent}server 127.0.0.1:{port}{options};\n" for port in backend_ports)
    text = server_line.sub("", template, count=0)
    head = f"upstream {upstream} {{\n"
    assert head in text, f"no `{head.strip()}` in the template"
    # The first lines of the block are directives such as `hash ...;`: the servers go after them.
    directives = re.compile(re.escape(head) + r"((?:\s*#.*\n|\s*[a-z_]+ [^;{]*;\n)*)")
    text = directives.sub(lambda m: head + m.group(1) + servers, text, count=1)
    text, n = re.subn(r"listen \d+;", f"listen 127.0.0.1:{listen_port};", text)
    assert n == 1, "the template must have exactly one listen line"
    temp_paths = "".join(
        f"    {kind}_temp_path {workdir / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = text.replace("worker_processes auto;", "worker_processes 2;\nuser root;", 1)
    return text.replace("http {\n", "http {\n" + temp_paths, 1)


@dataclass
class Nginx:
    url: str
    process: subprocess.Popen[bytes]
    workdir: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    def log(self) -> str:
        path = self.workdir / "nginx.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def run_nginx(
    backend_ports: list[int],
    workdir: Path,
    *,
    template: Path = TEMPLATE,
    upstream: str = "parlor_backend",
    port: int | None = None,
) -> Iterator[Nginx]:
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(render(template.read_text(), port, backend_ports, workdir, upstream))
    pid = workdir / "nginx.pid"
    with open(workdir / "nginx.log", "wb") as log:
        proc = subprocess.Popen(
            [NGINX, "-p", str(workdir), "-c", str(conf), "-g", f"daemon off; pid {pid}; error_log stderr;"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    nginx = Nginx(f"http://127.0.0.1:{port}", proc, workdir)
    try:
        wait_http(nginx.url + "/healthz", timeout=60, proc=proc)
        yield nginx
    finally:
        stop_process(proc, 5)


def run_frontend_nginx(
    frontend_ports: list[int], workdir: Path, port: int | None = None
) -> contextlib.AbstractContextManager[Nginx]:
    """deploy/nginx-frontend.conf in front of the given Streamlit ports (session affinity by cookie)."""
    return run_nginx(frontend_ports, workdir, template=FRONTEND_TEMPLATE, upstream="parlor_frontend", port=port)
