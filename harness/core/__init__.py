"""Core services every layer uses and that know no stage: errors, atomic output, the plug-in registry and
parameters, the results vocabulary, masking of personal data, text normalisation, the version."""
