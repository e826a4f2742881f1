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


def compare(base, adapter, train=None, eval=None, **kwargs):
    """Compare a tuned adapter with its base and apply the gate; see harness.comparison.compare."""
    from .comparison import compare as _compare

    return _compare(base, adapter, train, eval, **kwargs)


def run(config, **kwargs):
    """The whole job from a pipeline YAML (or PipelineConfig); see harness.pipeline.run."""
    from .pipeline import run as _run

    return _run(config, **kwargs)


__all__ = ["__version__", "audit", "train", "compare", "run"]
