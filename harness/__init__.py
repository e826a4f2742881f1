"""finetune-harness: audit fine-tuning data, train LoRA adapters, compare tuned vs base, gate the deploy.

The Python API, at the top of the house: each function calls its stage (which returns plain data) and,
where asked, writes the stage's files (harness/app/artefacts.py)."""

from harness.core.version import __version__


def audit(train, eval=None, policy=None, **kwargs):
    """Audit training data; see harness.auditing.auditor.audit. The shipped probe sets are looked for in the
    training data unless `probes` gives others (or [] for none)."""
    from harness.auditing.auditor import audit as _audit
    from harness.suites import probe_items

    if kwargs.get("probes") is None:
        kwargs["probes"] = probe_items()
    return _audit(train, eval, policy, **kwargs)


def train(base, train, eval=None, out="adapter", **kwargs):
    """Train a LoRA adapter; see harness.training.trainer.train. The adapter directory gets its model card
    (README.md) and the run's report.html beside the weights and manifest.json."""
    from harness.app.artefacts import adapter_documents
    from harness.training.trainer import train as _train

    kwargs.setdefault("documents", adapter_documents)
    return _train(base, train, eval, out, **kwargs)


def compare(base, adapter, train=None, eval=None, *, out=None, **kwargs):
    """Compare a tuned adapter with its base and apply the gate; see harness.comparing.comparison.compare. With
    `out`, results.json, junit.xml and report.html are written there and the adapter's model card gets
    the results."""
    from harness.comparing.comparison import compare as _compare

    results = _compare(base, adapter, train, eval, **kwargs)
    if out is not None:
        from harness.app.artefacts import write_compare

        write_compare(out, results, adapter)
    return results


def run(config, **kwargs):
    """The whole job from a pipeline YAML (or PipelineConfig); see harness.app.pipeline.run."""
    from harness.app.pipeline import run as _run

    return _run(config, **kwargs)


__all__ = ["__version__", "audit", "train", "compare", "run"]
