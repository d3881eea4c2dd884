"""Pages people read in a browser: the citizen's form (``/``) and the officers' inbox (``/petugas``).

Texts are Bahasa Indonesia; a Pemda overrides a page by putting a file of the same name
(``lapor.html``, ``petugas.html``) in ``templates_dir``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aiohttp import web

from omnichannel.config import Config


def _page(config: Config, name: str) -> str:
    if config.templates_dir is not None:
        override = Path(config.templates_dir) / name
        if override.is_file():
            return override.read_text(encoding="utf-8")
    return resources.files("omnichannel.web.pages").joinpath(name).read_text(encoding="utf-8")


def routes(config: Config) -> list[web.RouteDef]:
    """The page routes: the citizen form needs an enabled web intake connector."""
    out: list[web.RouteDef] = []
    intake = next((c for c in config.connectors if c.kind == "webform" and c.enabled), None)
    if intake is not None and getattr(intake, "auth", "none") == "none":
        max_bytes = int(getattr(intake, "max_file_bytes", 0))
        size = f"{max_bytes / 1_048_576:.1f}".removesuffix(".0") + " MB" if max_bytes >= 1_048_576 \
            else f"{max(1, max_bytes // 1024)} KB"
        html = (_page(config, "lapor.html").replace("{{API_PATH}}", intake.path)
                .replace("{{MAX_FILES}}", str(getattr(intake, "max_files", 0))).replace("{{MAX_FILE_SIZE}}", size))

        async def form(_: web.Request) -> web.Response:
            return web.Response(text=html, content_type="text/html", charset="utf-8",
                                headers={"Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; "
                                         "style-src 'unsafe-inline'", "X-Frame-Options": "DENY"})

        out.append(web.get("/", form))
    # always served: officers log in with personal accounts (omnichannel users add); agency tokens are for
    # machine clients of the API
    officer = _page(config, "petugas.html")

    async def inbox(_: web.Request) -> web.Response:
        return web.Response(text=officer, content_type="text/html", charset="utf-8",
                            headers={"Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; "
                                     "style-src 'unsafe-inline'", "X-Frame-Options": "DENY",
                                     "Cache-Control": "no-store", "Referrer-Policy": "same-origin"})

    out.append(web.get("/petugas", inbox))
    return out
