"""One description of the data, read once and handed to every stage (issue 31.2): its shape, the field
mapping, the allowed labels, the token budget per row (`max_seq_len`), the tokenizer lengths are counted
with, and how the eval set is read. The audit measures lengths against the same `max_seq_len` the
trainer truncates at and compare encodes with; the audit policy keeps thresholds only.

Where it is written (harness/app/pipeline.py resolves them, precedence: flag > file > default):
    audit policy:  data: {shape: chat, max_seq_len: 512}    (older policies: the same keys at the top)
    train config:  max_seq_len / shape / fields              (the trainer's own keys, kept)
A pipeline whose audit policy and train config set one key to two values is a usage error naming both.
audit.json, the adapter's manifest and compare's results.json record the spec as used (`data_spec`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from harness.core.errors import UsageError
from harness.core.params import Params, check, param

# The spec's keys an audit policy of the older form gives at its top level, and those a train config gives.
POLICY_KEYS = ("shape", "fields", "labels", "max_seq_len", "tokenizer", "eval_max_bad_share")
TRAIN_CONFIG_KEYS = ("max_seq_len", "shape", "fields")


@dataclass(frozen=True)
class DataSpec(Params):
    shape: str = param("auto", "", "auto (detected) or a shape name: classification, instruction, alpaca, chat, ...")
    fields: dict[str, str] = param({}, "", "canonical field -> your column, e.g. {text: body, label: category}")
    labels: list[str] | None = param(None, "", "allowed labels (classification); a row with another is a schema error")
    max_seq_len: int = param(256, ">=1", "tokens per row (input + output) the trainer keeps: the audit's length "
                                         "limit, the trainer's truncation and compare's encoding")
    tokenizer: str | None = param(None, "", "a local tokenizer directory for exact token counts; null: a fast estimate")
    eval_fields: dict[str, str] | None = param(None, "", "the eval set's field mapping; null: the same as fields")
    eval_max_bad_share: float = param(0.5, "0..1", "an eval set with more unreadable rows than this share is refused")

    # ---- reading and writing -------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None, where: str = "data") -> "DataSpec":
        """The spec from a mapping of its keys (any subset; the rest default), checked: an unknown key, a
        value of the wrong type or range, an unknown shape or field name is a one-line UsageError."""
        check(cls, values, where)
        values = dict(values or {})
        for key in ("fields", "eval_fields"):
            for name, column in (values.get(key) or {}).items():
                if not isinstance(column, str):
                    raise UsageError(f"{where}.{key}.{name}: expected a string (a column name), got {column!r:.60}")
        shape = values.get("shape")
        if shape is not None and shape != "auto":
            from harness.inputs.data import shape_choices
            from harness.core.hints import did_you_mean

            if shape not in shape_choices():
                raise UsageError(f"{where}.shape: unknown shape {shape!r}{did_you_mean(str(shape), ['auto', *shape_choices()])}")
        if values.get("shape") is None:
            values.pop("shape", None)
        from harness.inputs.shapes import check_field_names

        for key in ("fields", "eval_fields"):
            if values.get(key):
                try:
                    check_field_names(values[key])
                except UsageError as exc:
                    raise UsageError(f"{where}.{key}: {exc}") from None
        values["fields"] = dict(values.get("fields") or {})
        return cls(**values)

    @classmethod
    def of_policy(cls, policy: Mapping[str, Any]) -> "DataSpec":
        """The spec of a loaded audit policy (its `data` section); an older-form key set at its top after
        loading is taken over it."""
        values = dict(policy.get("data") or {})
        values.update({k: policy[k] for k in POLICY_KEYS if k in policy})
        return cls.from_mapping(values, "policy: data")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values: what audit.json, the adapter's manifest and results.json record."""
        return dataclasses.asdict(self)

    def override(self, where: str = "data", **values: Any) -> "DataSpec":
        """A new spec with `values` over this one (None: keep this one's), checked as from_mapping checks."""
        given = {k: v for k, v in values.items() if v is not None}
        return self if not given else DataSpec.from_mapping({**self.to_dict(), **given}, where)

    @property
    def eval_mapping(self) -> dict[str, str]:
        """The eval set's field mapping: its own, else the training data's."""
        return dict(self.fields if self.eval_fields is None else self.eval_fields)

    @property
    def detected(self) -> str | None:
        """The shape to read with, None to detect it (the loaders' and the train config's form of `auto`)."""
        return None if self.shape == "auto" else self.shape


def policy_settings(policy: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The spec's keys a policy file (as written) sets: its `data` section, and the older form's keys at its
    top. One key set both ways to two values is a usage error."""
    section = policy.get("data")
    if section is not None and not isinstance(section, Mapping):
        raise UsageError(f"{name}: data must be a mapping of data-spec keys (shape, fields, max_seq_len, ...)")
    given = {k: policy[k] for k in POLICY_KEYS if k in policy}
    for key, value in (section or {}).items():
        if key in given and given[key] != value:
            raise UsageError(f"{name}: data.{key} ({value!r}) and the top-level {key} ({given[key]!r}) disagree; "
                             f"keep data.{key} alone")
        given[key] = value
    check(DataSpec, given, f"{name}: data")
    return given


def train_config_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's keys a train config sets (None, `auto` and an empty mapping set nothing)."""
    return {k: config[k] for k in TRAIN_CONFIG_KEYS if config.get(k) not in (None, "auto", {})}


def resolve(policy: Mapping[str, Any] | None = None, train_config: Mapping[str, Any] | None = None,
            flags: Mapping[str, Any] | None = None, *, policy_name: str = "audit policy",
            config_name: str = "train config") -> DataSpec:
    """The one spec of a job: flags over the files' settings over the defaults. The audit policy (as written)
    and the train config setting one key to two values is a usage error naming both, not a silent pick."""
    from_policy = policy_settings(policy or {}, policy_name)
    from_config = train_config_settings(train_config or {})
    for key in sorted(set(from_policy) & set(from_config)):
        if from_policy[key] != from_config[key]:
            raise UsageError(f"{key} is {from_policy[key]!r} in {policy_name} and {from_config[key]!r} in "
                             f"{config_name}: set it in one of them (or the same in both)")
    spec = DataSpec.from_mapping({**from_policy, **from_config}, f"{policy_name}: data")
    return spec.override("flags", **dict(flags or {}))


def for_training(spec: DataSpec | None, config_values: Mapping[str, Any]) -> DataSpec:
    """The spec training reads with: `spec` (default: DataSpec()) with the train config's own settings
    (max_seq_len, shape, fields; given as flags or in its file) over it."""
    return (spec or DataSpec()).override("train config", **train_config_settings(config_values))


# The one default every stage shares (the trainer's, the audit's, compare's for an adapter that recorded none).
DEFAULT_MAX_SEQ_LEN: int = DataSpec.max_seq_len
