"""The configuration reference, generated from the pydantic models so it never drifts from the code."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from omnichannel import config as cfg
from omnichannel import registry


def _type_name(annotation: Any) -> str:
    text = str(annotation) if not isinstance(annotation, type) else annotation.__name__
    for noise in ("typing.", "pydantic.types.", "pathlib.", "omnichannel.config.", "<class '", "'>"):
        text = text.replace(noise, "")
    return text.replace("|", "\\|")


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        try:
            value = field.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return "(computed)"
    elif field.default is PydanticUndefined:
        return "**required**"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "(section)"
    text = repr(value) if value not in (None, "") else ("—" if value is None else '""')
    return f"`{text}`".replace("|", "\\|")


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def model_table(model: type[BaseModel], prefix: str = "", skip: set[str] | None = None) -> list[str]:
    """Markdown rows (``| key | type | default | meaning |``) for every field, nested models expanded."""
    rows: list[str] = []
    for name, field in model.model_fields.items():
        if skip and name in skip:
            continue
        key = f"{prefix}{name}"
        nested = _nested_model(field.annotation)
        secret = "SecretStr" in str(field.annotation)
        meaning = (field.description or "") + (" Secret: give it as `${ENV_VAR}`." if secret else "")
        if nested is not None and nested is not cfg.Config and "list" not in str(field.annotation):
            rows.extend(model_table(nested, f"{key}."))
            continue
        rows.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | {meaning.strip()} |")
    return rows


def reference() -> str:
    """The whole reference as Markdown."""
    head = "| key | type | default | meaning |\n|---|---|---|---|"
    out = ["# Configuration reference", "",
           "Generated from the code by `omnichannel check --reference`. Every key is optional unless marked "
           "**required**; unknown keys are errors; secrets only as `${ENV_VAR}`.", "",
           "## Top level", "", head]
    out += model_table(cfg.Config, skip={"connectors", "forwarders", "agencies", "routing", "dedup", "sla", "reports"})
    out += ["", "## agencies[]", "", head, *model_table(cfg.AgencyConfig, "agencies[].")]
    for title, table, base in (("connectors", registry.CONNECTORS, cfg.ConnectorConfig),
                               ("forwarders", registry.FORWARDERS, cfg.ForwarderConfig)):
        out += ["", f"## {title}[] — keys every kind shares", "", head, *model_table(base, f"{title}[].")]
        shared = set(base.model_fields)
        for kind, (_, config_path) in sorted(table.items()):
            try:
                model = registry.load(config_path)
            except (ImportError, AttributeError) as exc:
                out += ["", f"### {title}[] kind `{kind}`", "", f"(not installed here: {exc})"]
                continue
            rows = model_table(model, f"{title}[].", skip=shared - {"kind"})
            out += ["", f"### {title}[] kind `{kind}`", "", head, *rows]
    for section, target in registry.SECTIONS.items():
        try:
            model = registry.load(target)
        except (ImportError, AttributeError) as exc:
            out += ["", f"## {section}", "", f"(not installed here: {exc})"]
            continue
        out += ["", f"## {section}", "", head, *model_table(model, f"{section}.")]
    return "\n".join(out) + "\n"
