"""finetune-harness: audit fine-tuning data, train LoRA adapters, compare tuned vs base, gate the deploy."""

__version__ = "0.1.0"


def audit(train, eval=None, policy=None, **kwargs):
    """Audit training data; see harness.auditor.audit."""
    from .auditor import audit as _audit

    return _audit(train, eval, policy, **kwargs)


__all__ = ["__version__", "audit"]
