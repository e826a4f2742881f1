"""finetune-harness: audit fine-tuning data, train LoRA adapters, compare tuned vs base, gate the deploy."""

__version__ = "0.1.0"


def audit(train, eval=None, policy=None, **kwargs):
    """Audit training data; see harness.auditor.audit."""
    from .auditor import audit as _audit

    return _audit(train, eval, policy, **kwargs)


def train(base, train, eval=None, out="adapter", **kwargs):
    """Train a LoRA adapter; see harness.trainer.train."""
    from .trainer import train as _train

    return _train(base, train, eval, out, **kwargs)


__all__ = ["__version__", "audit", "train"]
