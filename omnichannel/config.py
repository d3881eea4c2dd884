"""Configuration: YAML → pydantic models, ``${VAR}`` interpolation, errors that name the key."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from omnichannel import registry
from omnichannel.errors import ConfigError

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"


def forwarder_names(value: list[str]) -> list[str]:
    """A list of forwarder names, each a valid name (``sla.escalate_to``, ``digest.to``)."""
    for name in value:
        if not re.match(NAME_PATTERN, name):
            raise ValueError(f"{name!r} is not a forwarder name")
    return value
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# the password in a URL's user info: postgresql+asyncpg://user:PASSWORD@host/db, redis://:PASSWORD@host
_URL_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^/?#@:]*:)[^/?#@]+(@)", re.IGNORECASE)


def _not_blank(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().strip():
        raise ValueError("must not be empty or whitespace (an empty key would make any signature or token valid)")
    return value


RequiredSecret = Annotated[SecretStr, AfterValidator(_not_blank)]
"""A secret that signs or proves something: refused at load when empty or whitespace."""


class Model(BaseModel):
    """Base for every config model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class PluginConfig(Model):
    """Fields every connector and forwarder shares; each kind subclasses it with its own."""

    name: str = Field(pattern=NAME_PATTERN, description="unique name, used in logs, keys and metrics")
    kind: str = Field(description="which plugin")
    enabled: bool = Field(True, description="false keeps the entry without running it")


class ConnectorConfig(PluginConfig):
    """Common connector settings."""

    poll_interval: float = Field(30.0, gt=0, description="seconds between polls (pull connectors)")
    poll_timeout: float = Field(90.0, gt=0, description="a poll that takes longer is cancelled")
    acknowledge: bool = Field(True, description="answer a new complaint with its ref on the same channel")
    default_agency: str | None = Field(None, description="routing fallback for this channel")


class ForwarderConfig(PluginConfig):
    """Common forwarder settings; the dispatcher reads them."""

    agencies: list[str] = Field(default_factory=lambda: ["*"], description="agency codes served, * = all")
    item_types: list[str] = Field(default_factory=lambda: ["ticket"])
    kinds: list[str] | None = Field(None, description="complaint kinds forwarded; None = all")
    max_in_flight: int = Field(4, gt=0)
    max_attempts: int = Field(15, gt=0)
    max_age: float = Field(3 * 86400.0, gt=0, description="seconds before a pending row is dead-lettered")
    timeout: float = Field(30.0, gt=0)


class StoreConfig(Model):
    """Where the store lives."""

    url: str = Field("", description="empty: SQLite file omnichannel.db in data_dir")
    migrate_on_start: bool = Field(True, description="apply schema migrations when the daemon starts")
    echo: bool = Field(False, description="log every SQL statement (debugging only)")

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")
                or value.startswith("postgresql+psycopg://")):
            raise ValueError("use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        return value


class RateLimit(Model):
    """One group's limits: per client (a minute, with a burst) and for everyone together (a second)."""

    per_client: float = Field(60, gt=0, description="requests a minute from one client (intake: 10, login: 10)")
    per_client_burst: int = Field(20, gt=0, description="requests one client may send at once (intake: 5, login: 10)")
    overall: float = Field(100, gt=0, description="requests a second from all clients together (intake: 50, login: 5)")
    overall_burst: int = Field(300, gt=0, description="requests all together may send at once (intake: 200, login: 50)")


class RateLimits(Model):
    """429 with Retry-After past these (``enabled: ${OMNICHANNEL_RATE_LIMITS:-true}`` in the shipped config)."""

    enabled: bool = Field(True, description="false: no limits (benchmarks and load tests)")
    intake: RateLimit = Field(default_factory=lambda: RateLimit(per_client=10, per_client_burst=5, overall=50,
                                                                overall_burst=200),
                              description="filing a complaint on the web intake")
    status: RateLimit = Field(default_factory=lambda: RateLimit(per_client=60, per_client_burst=20, overall=100,
                                                                overall_burst=300),
                              description="citizens' status lookups")
    login: RateLimit = Field(default_factory=lambda: RateLimit(per_client=10, per_client_burst=10, overall=5,
                                                               overall_burst=50),
                             description="failed officer sign-ins (wrong or missing token)")


class HttpConfig(Model):
    """The one aiohttp server for intake, webhooks, the officer API and ops endpoints."""

    enabled: bool = Field(True, description="serve HTTP (intake, webhooks, officer API, health)")
    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(8080, ge=0, le=65535, description="port to listen on (0: any free port)")
    max_body_bytes: int = Field(1_048_576, gt=0, description="largest request body accepted")
    workers: int = Field(0, ge=0, le=64, description=(
        "separate processes that answer HTTP on the port (SO_REUSEPORT); 0: the daemon's own process does. "
        "With workers the intake runs on their cores and the daemon's core is left to the router"))
    public_url: str | None = Field(None, description="how the outside reaches us (webhook registration)")
    coordinator_tokens: list[SecretStr] = Field(
        default_factory=list, description="officer API tokens that see every agency's tickets (complaint desk)")
    trusted_proxies: list[str] = Field(default_factory=list, description=(
        "addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For names the client"))
    header_timeout: float = Field(15.0, gt=0, description=(
        "seconds a connection may take to send its request headers (also the idle keep-alive time)"))
    body_timeout: float = Field(30.0, gt=0, description="seconds a client may take to send a request body")
    rate_limits: RateLimits = Field(default_factory=RateLimits)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value


class LoggingConfig(Model):
    """Log level and format; personal data is masked in every format."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="personal data only at DEBUG")
    format: Literal["text", "json"] = Field("text", description="text lines or one JSON object per line")


class DaemonConfig(Model):
    """Supervisor knobs."""

    shutdown_deadline: float = Field(20.0, gt=0, description="seconds to drain in-flight work on SIGTERM")
    backoff_initial: float = Field(1.0, gt=0, description="first retry delay of a failing connector (s)")
    backoff_max: float = Field(300.0, gt=0, description="longest retry delay of a failing connector (s)")
    router_interval: float = Field(1.0, gt=0, description="seconds between router sweeps (it also wakes on ingest)")
    ingest_batch_max: int = Field(500, gt=0, description="most envelopes committed in one transaction")
    lease_ttl: float = Field(30.0, gt=0, description="seconds a replica holds a connector's lease")
    replica_id: str | None = Field(None, description=(
        "name of this replica (default host:N, N the first free slot under data_dir/replicas: a restart after a "
        "crash gets the same name and takes its predecessor's claims back at once)"))
    route: bool = Field(True, description="run the router in this process (false: an intake-only replica)")
    route_process: bool = Field(False, description=(
        "with route: run the router in a child process of its own (its own core beside the intake: more "
        "mails/s on a machine with two or more cores; the same decisions, lease and arrival order)"))
    dispatch: bool = Field(True, description="run the outbox dispatcher in this process")


class AgencyConfig(Model):
    """One agency (OPD) that receives tickets."""

    code: str = Field(pattern=NAME_PATTERN, description="short code used in rules and the officer API")
    name: str = Field(description="the agency's name as citizens and officers read it")
    email: str | None = Field(None, description="the agency's mailbox (for the email forwarder)")
    officer_tokens: list[SecretStr] = Field(default_factory=list,
                                            description="bearer tokens of this agency's officers")
    lapor_topic: str | None = Field(None, description="SP4N-LAPOR! topic id for this agency")
    remit: str = Field("", description="the agency's duties in plain Indonesian, as the Pemda's regulation on "
                       "OPD duties states them; the router uses them as evidence and in its explanation")
    aliases: list[str] = Field(default_factory=list, description="other names and social accounts citizens use "
                               "for the agency (\"DSDABM\", \"@dishubkotabdg\"); remit evidence too")


class Config(Model):
    """The whole daemon configuration."""

    data_dir: Path = Field(Path("./data"), description="SQLite file, attachments (relative to the working dir)")
    timezone: str = Field("Asia/Jakarta", description="how times are shown to citizens and officers")
    store: StoreConfig = Field(default_factory=StoreConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    templates: dict[str, str] = Field(default_factory=dict, description="overrides of Bahasa Indonesia texts")
    templates_dir: Path | None = Field(None, description="directory of <template name>.txt overrides")
    connectors: list[Any] = Field(default_factory=list)
    forwarders: list[Any] = Field(default_factory=list)
    agencies: list[AgencyConfig] = Field(default_factory=list)
    routing: Any = None
    dedup: Any = None
    sla: Any = None
    reports: Any = None

    def connector(self, name: str) -> Any:
        """The connector config called ``name``."""
        return next(c for c in self.connectors if c.name == name)

    def agency(self, code: str) -> AgencyConfig | None:
        """The agency with ``code``, if configured."""
        return next((a for a in self.agencies if a.code == code), None)

    def redacted(self) -> dict[str, Any]:
        """A dump safe for logs: every secret masked, the password in a URL (``store.url``) too."""
        return _mask_urls(self.model_dump(mode="json"))


def mask_url(url: str) -> str:
    """``url`` with the password of its user info replaced by ``***``."""
    return _URL_PASSWORD.sub(r"\1***\2", url)


def _mask_urls(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _mask_urls(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_mask_urls(v) for v in node]
    return mask_url(node) if isinstance(node, str) and "://" in node else node


def _format_loc(loc: tuple[Any, ...], prefix: str = "") -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _interpolate(node: Any, path: str, env: dict[str, str], found: set[str],
                 missing: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else str(k), env, found, missing)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, f"{path}[{i}]", env, found, missing) for i, v in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        def sub(match: re.Match[str]) -> str:
            var, default = match.group(1), match.group(2)
            if var in env:
                return env[var]
            if default is not None:
                return default
            missing[path] = var
            return ""
        found.add(path)
        value = _VAR.sub(sub, node)
        return value
    return node


def _plugin(raw: Any, index: int, section: str, table: dict[str, tuple[str, str]],
            base: type[PluginConfig]) -> Any:
    where = f"{section}[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be a mapping with at least name and kind")
    kind = raw.get("kind")
    if kind is None:
        raise ConfigError(f"{where}.kind", "is required")
    if kind not in table:
        raise ConfigError(f"{where}.kind", f"unknown kind {kind!r}; known: {', '.join(sorted(table))}")
    try:
        model = registry.load(table[kind][1])
    except (ImportError, AttributeError) as exc:
        if raw.get("enabled", True) is False:
            return base.model_validate({k: raw[k] for k in ("name", "kind", "enabled") if k in raw})
        raise ConfigError(f"{where}.kind", f"{kind!r} is unavailable here: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        if raw.get("enabled", True) is False:
            # a disabled entry documents a channel whose credentials are not set yet: check only
            # that every key is known, and validate the values once it is enabled
            unknown = [k for k in raw if k not in model.model_fields]
            if unknown:
                raise ConfigError(f"{where}.{unknown[0]}", "Extra inputs are not permitted") from None
            return base.model_validate({k: raw[k] for k in ("name", "kind", "enabled") if k in raw})
        raise ConfigError(_format_loc(err["loc"], where), err["msg"]) from None


def _check_secrets(model: BaseModel, path: str, from_env: set[str]) -> None:
    for field_name, value in model:
        sub = f"{path}.{field_name}" if path else field_name
        if isinstance(value, SecretStr):
            if value.get_secret_value() and sub not in from_env:
                raise ConfigError(sub, "secrets must come from the environment: write ${SOME_VAR}")
            if value.get_secret_value() and not value.get_secret_value().strip():
                raise ConfigError(sub, "is only whitespace: set the variable to the secret or leave it empty")
        elif isinstance(value, BaseModel):
            _check_secrets(value, sub, from_env)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _check_secrets(item, f"{sub}[{i}]", from_env)
                elif isinstance(item, SecretStr) and item.get_secret_value() and f"{sub}[{i}]" not in from_env:
                    raise ConfigError(f"{sub}[{i}]", "secrets must come from the environment: write ${SOME_VAR}")
                elif isinstance(item, SecretStr) and item.get_secret_value() and not item.get_secret_value().strip():
                    raise ConfigError(f"{sub}[{i}]", "is only whitespace: set the variable to the token or leave it "
                                                    "empty (an empty token is not configured)")


def _disabled_prefixes(data: dict[str, Any]) -> list[str]:
    prefixes = []
    for section in ("connectors", "forwarders"):
        for i, item in enumerate(data.get(section) or []):
            if isinstance(item, dict) and item.get("enabled", True) is False:
                prefixes.append(f"{section}[{i}]")
    return prefixes


def parse_config(text: str, env: dict[str, str] | None = None, base_dir: Path | None = None) -> Config:
    """Parse YAML text into a validated ``Config``; raises ``ConfigError`` naming the key."""
    env = dict(os.environ) if env is None else env
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        raise ConfigError("", f"invalid YAML at {where}: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("", "the top level must be a mapping of sections")
    found: set[str] = set()
    missing: dict[str, str] = {}
    data = _interpolate(data, "", env, found, missing)
    disabled = _disabled_prefixes(data)
    for path, var in missing.items():
        if not any(path == p or path.startswith(p + ".") or path.startswith(p + "[") for p in disabled):
            raise ConfigError(path, f"environment variable {var} is not set")
    plugins: dict[str, list[Any]] = {}
    for section, table, base in (("connectors", registry.CONNECTORS, ConnectorConfig),
                                 ("forwarders", registry.FORWARDERS, ForwarderConfig)):
        raw_list = data.pop(section, None) or []
        if not isinstance(raw_list, list):
            raise ConfigError(section, "must be a list")
        plugins[section] = [_plugin(raw, i, section, table, base) for i, raw in enumerate(raw_list)]
        names: dict[str, int] = {}
        for i, plugin in enumerate(plugins[section]):
            if plugin.name in names:
                raise ConfigError(f"{section}[{i}].name",
                                  f"duplicate name {plugin.name!r} (also {section}[{names[plugin.name]}])")
            names[plugin.name] = i
    sections: dict[str, Any] = {}
    for key, target in registry.SECTIONS.items():
        raw = data.pop(key, None)
        try:
            model = registry.load(target)
        except (ImportError, AttributeError):
            sections[key] = raw
            continue
        try:
            sections[key] = model.model_validate(raw or {})
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ConfigError(_format_loc(err["loc"], key), err["msg"]) from None
    try:
        config = Config.model_validate({**data, **plugins, **sections})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(_format_loc(err["loc"]), err["msg"]) from None
    codes: dict[str, int] = {}
    for i, agency in enumerate(config.agencies):
        if agency.code in codes:
            raise ConfigError(f"agencies[{i}].code", f"duplicate agency code {agency.code!r}")
        codes[agency.code] = i
    _check_secrets(config, "", found)
    if base_dir is not None and not config.data_dir.is_absolute():
        config.data_dir = (base_dir / config.data_dir).resolve()
    if not config.store.url:
        config.store.url = f"sqlite+aiosqlite:///{config.data_dir}/omnichannel.db"
    return config


def load_config(path: str | Path, env: dict[str, str] | None = None) -> Config:
    """Read and validate a config file; relative ``data_dir`` is taken from the working directory."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("", f"config file {path} not found (omnichannel init writes the shipped one, "
                              "or give -c FILE)") from None
    except OSError as exc:
        raise ConfigError("", f"cannot read config file {path}: {exc}") from None
    return parse_config(text, env=env, base_dir=Path.cwd())
