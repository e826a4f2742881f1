"""The compare stage: scoring base and adapter in one process, paired statistics (core layer, imported by
suites), the comparison itself and the deploy gate."""
