"""Every request body checked against Discord's own OpenAPI spec (vendored under `spec/`).

Discord refuses a body that breaks the request schema of its route with 400 / 50035, so the fake
does too: each JSON body and multipart `payload_json` is validated (JSON Schema draft 2020-12,
`jsonschema`) before the route handler sees it, and the refusals are nested by field path as
Discord nests them. The spec is 1.2 MB: it is loaded on the first request and each route's
validator is built once per process.

Discord's spec README describes two leniencies of the real API, applied once to the loaded schema
rather than by skipping fields: a snowflake may be sent as an integer, and an integer field
accepts a numeric string.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from .errors import FormError, form_errors

SPEC_FILE = Path(__file__).with_name("spec") / "openapi.json"
SPEC_URI = "urn:discord-api-spec:openapi.json"
_NUMERIC = "^-?[0-9]+$"
_PARAM = re.compile(r"\{[^}]*\}")
_SNOWFLAKE_MAX = 2**64 - 1


class NoSchema(Exception):
    """The spec cannot check this request: the route is not in it, or has no request body."""


def _relax(node: Any) -> Any:
    """The spec with Discord's two documented leniencies applied (see the module docstring),
    and its enums (a oneOf of titled consts) as plain enums, which accept the same values."""
    if isinstance(node, list):
        return [_relax(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _relax(value) for key, value in node.items()}
    branches = out.get("oneOf")
    if isinstance(branches, list) and all(_is_named_const(b) for b in branches):
        out["enum"] = [b["const"] for b in out.pop("oneOf")]
    kind = out.get("type")
    if isinstance(kind, str | list) and all(isinstance(k, str) for k in _as_list(kind)):
        kinds = _as_list(kind)
        if out.get("format") == "snowflake":
            out["type"] = [*kinds, "integer"]
            out |= {"minimum": 0, "maximum": _SNOWFLAKE_MAX}
        elif "integer" in kinds and "string" not in kinds:
            out["type"] = [*kinds, "string"]
            out["pattern"] = _NUMERIC
    return out


def _is_named_const(branch: Any) -> bool:
    return (
        isinstance(branch, dict)
        and "const" in branch
        and branch.keys()
        <= {
            "const",
            "title",
            "description",
        }
    )


def _as_list(kind: str | list[str]) -> list[str]:
    return [kind] if isinstance(kind, str) else list(kind)


def _accepts_strings(branch: Any, schemas: dict[str, Any]) -> bool:
    ref = branch.get("$ref", "") if isinstance(branch, dict) else ""
    if ref.startswith("#/components/schemas/"):
        branch = schemas[ref.rsplit("/", 1)[1]]
    kind = branch.get("type") if isinstance(branch, dict) else None
    return isinstance(kind, str | list) and "string" in _as_list(kind)


def _kinds_of(branch: Any, schemas: dict[str, Any]) -> tuple[Any, ...]:
    """The `type` values a union branch (a component, a callback) is for; () if it has none."""
    ref = branch.get("$ref", "") if isinstance(branch, dict) else ""
    target = schemas.get(ref.rsplit("/", 1)[1]) if ref.startswith("#/components/") else None
    if not isinstance(target, dict) or "type" not in target.get("required", ()):
        return ()
    return tuple(target.get("properties", {}).get("type", {}).get("enum", ()))


def _rewrite_unions(node: Any, schemas: dict[str, Any]) -> None:
    """Unions rewritten to accept and refuse the same bodies as Discord, fast and by field.

    - A `oneOf` of an integer and a string (a nonce) would match a numeric string twice once
      integers accept numeric strings; Discord takes the first match, so it becomes an anyOf.
    - Unions told apart by their `type` field (components, callbacks, command options) check
      only the branch that `type` names. A plain oneOf validates every branch (seven component
      kinds, each with six kinds of child) and then has to guess which failure the sender meant;
      selecting by `type` names the failing field of the meant branch and is several times faster.
    """
    if isinstance(node, list):
        for item in node:
            _rewrite_unions(item, schemas)
        return
    if not isinstance(node, dict):
        return
    branches = node.get("oneOf")
    if isinstance(branches, list) and sum(_accepts_strings(b, schemas) for b in branches) > 1:
        node["anyOf"] = node.pop("oneOf")
    for key in ("oneOf", "anyOf"):
        branches = node.get(key)
        if not isinstance(branches, list) or {"type", "properties", "allOf"} & node.keys():
            continue
        kinds = [_kinds_of(b, schemas) for b in branches]
        every = [k for ks in kinds for k in ks]
        if len(kinds) < 2 or () in kinds or len(set(every)) != len(every):
            continue
        del node[key]
        node |= {
            "type": "object",
            "properties": {"type": {"enum": every}},
            "required": ["type"],
            "allOf": [
                {
                    "if": {
                        "type": "object",
                        "properties": {"type": {"enum": list(ks)}},
                        "required": ["type"],
                    },
                    "then": branch,
                }
                for ks, branch in zip(kinds, branches, strict=True)
            ],
        }
    for value in node.values():
        _rewrite_unions(value, schemas)


@functools.cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = _relax(json.loads(SPEC_FILE.read_text()))
    _rewrite_unions(spec, spec["components"]["schemas"])
    return spec


@functools.cache
def _registry() -> Registry[Any]:
    registry: Registry[Any] = Registry().with_resource(
        SPEC_URI, DRAFT202012.create_resource(_spec())
    )
    return registry


@functools.cache
def _operations() -> dict[tuple[str, str], str]:
    """(METHOD, template with nameless parameters) -> the spec's own path template."""
    found: dict[tuple[str, str], str] = {}
    for path, item in _spec()["paths"].items():
        for method in item:
            if method in ("get", "put", "post", "patch", "delete"):
                found[(method.upper(), _PARAM.sub("{}", path))] = path
    return found


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


@functools.cache
def validator(method: str, template: str) -> Draft202012Validator:
    """The validator for a route of the fake (`/channels/{channel_id}/messages`), built once."""
    path = _operations().get((method, _PARAM.sub("{}", template)))
    if path is None:
        raise NoSchema("the spec has no such route")
    body = _spec()["paths"][path][method.lower()].get("requestBody")
    if body is None:
        raise NoSchema(f"the spec has no request body for {method} {path}")
    # payload_json of a multipart request is the same JSON as the application/json body.
    media = next(m for m in ("application/json", "multipart/form-data") if m in body["content"])
    ref = f"{SPEC_URI}#{_pointer('paths', path, method.lower(), 'requestBody', 'content', media)}"
    return Draft202012Validator({"$ref": ref + "/schema"}, registry=_registry())


def check(method: str, template: str, body: Any, *, sent: bool = True) -> None:
    """Raise Discord's 50035 for a body its route's request schema refuses.

    NoSchema if the spec lacks the route, or has no request schema for a body that was sent.
    """
    if (method, _PARAM.sub("{}", template)) not in _operations():
        raise NoSchema("the spec has no such route")
    if not sent:
        return
    refusals = _refusals(method, template, json.dumps(body, sort_keys=True))
    if refusals:
        raise form_errors(list(refusals), violation=True)


@functools.lru_cache(maxsize=4096)
def _refusals(method: str, template: str, body: str) -> tuple[FormError, ...]:
    """Cached by the body's text: the bot sends its whole command list (~0.2 s to validate)
    at every start, and many panels and notices are sent again unchanged."""
    errors = validator(method, template).iter_errors(json.loads(body))
    return tuple(item for error in errors for item in _form_errors(error))


def errors_under(schema_name: str, instance: Any) -> list[FormError]:
    """The refusals one component schema of the spec gives, for testing the error shapes."""
    ref = f"{SPEC_URI}#{_pointer('components', 'schemas', schema_name)}"
    checker = Draft202012Validator({"$ref": ref}, registry=_registry())
    return [item for error in checker.iter_errors(instance) for item in _form_errors(error)]


# -- errors as Discord words them ----------------------------------------------------------------


def _form_errors(error: ValidationError) -> list[FormError]:
    if error.validator in ("oneOf", "anyOf") and error.context:
        return _union_errors(error)
    path = tuple(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = [p for p in error.validator_value if p not in error.instance]
        return [((*path, name), "BASE_TYPE_REQUIRED", "This field is required") for name in missing]
    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        return [((*path, key), "UNKNOWN_FIELD", "This field is not allowed") for key in extra]
    code, message = _wording(error)
    return [(path, code, message)]


def _union_errors(error: ValidationError) -> list[FormError]:
    """Report the branch the body meant: of the branches for its kind of value, the one it
    comes closest to (fewest refusals), as Discord names the field rather than the union."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    depth = len(error.absolute_path)
    meant = [errs for errs in branches.values() if not _wrong_kind(errs, depth)]
    if meant:
        readings = [[item for sub in errs for item in _form_errors(sub)] for errs in meant]
        return min(readings, key=len)
    best = best_match(error.context or ())
    assert best is not None  # a union with context has at least one failing branch
    return _form_errors(best)


def _is_discriminator(error: ValidationError, depth: int) -> bool:
    return (
        error.validator == "enum"
        and len(error.absolute_path) == depth + 1
        and error.absolute_path[-1] == "type"
    )


def _wrong_kind(errors: Iterable[ValidationError], depth: int) -> bool:
    """A branch for another kind of value: the value's own type, or its `type` field, differs."""
    return any(
        (e.validator == "type" and len(e.absolute_path) == depth) or _is_discriminator(e, depth)
        for e in errors
    )


_TYPE_WORDING = {
    "integer": ("NUMBER_TYPE_COERCE", 'Value "{}" is not int.'),
    "number": ("NUMBER_TYPE_COERCE", 'Value "{}" is not a valid number.'),
    "string": ("STRING_TYPE_CONVERT", 'Could not interpret "{}" as string.'),
    "boolean": ("BOOLEAN_TYPE_CONVERT", "Must be either true or false."),
    "object": ("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"),
    "array": ("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"),
}


def _wording(error: ValidationError) -> tuple[str, str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    keyword, value = error.validator, error.validator_value
    if schema.get("format") == "snowflake":
        return "NUMBER_TYPE_COERCE", f'Value "{error.instance}" is not snowflake.'
    if keyword == "type":
        kinds = [k for k in _as_list(value) if k not in ("null", "string")] or ["string"]
        code, text = _TYPE_WORDING.get(kinds[0], ("BASE_TYPE_INVALID", "Invalid type: {}"))
        return code, text.format(error.instance)
    if keyword == "pattern" and value == _NUMERIC:
        return "NUMBER_TYPE_COERCE", f'Value "{error.instance}" is not int.'
    if keyword == "pattern":
        return "STRING_TYPE_REGEX", "String value did not match validation regex."
    if keyword in ("minLength", "maxLength", "minItems", "maxItems", "maxProperties"):
        return _length_wording(schema, keyword)
    if keyword in ("minimum", "exclusiveMinimum"):
        return "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {value}."
    if keyword in ("maximum", "exclusiveMaximum"):
        return "NUMBER_TYPE_MAX", f"int value should be less than or equal to {value}."
    if keyword in ("enum", "const"):
        shown = ", ".join(str(v) for v in value) if keyword == "enum" else str(value)
        return "BASE_TYPE_CHOICES", f"Value must be one of {{{shown}}}."
    if keyword == "uniqueItems":
        return "BASE_TYPE_INVALID", "Values must be unique."
    return "BASE_TYPE_INVALID", error.message


def _length_wording(schema: dict[str, Any], keyword: str) -> tuple[str, str]:
    unit = "Items" if keyword.endswith("Items") else "Length"
    low, high = schema.get(f"min{unit}"), schema.get(f"max{unit}", schema.get("maxProperties"))
    if low and high is not None:
        return "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length."
    if keyword.startswith("max"):
        return "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length."
    return "BASE_TYPE_MIN_LENGTH", f"Must be {low} or more in length."
