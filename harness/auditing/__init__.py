"""The audit stage: what checks share (audit_data and the pair, similarity, cluster, template and embedding
algorithms; core layer, imported by checks), and the stage itself (the policy, the check runner, the
auditor, cleaning flagged rows). The Spark engine of the same checks is in spark/."""
