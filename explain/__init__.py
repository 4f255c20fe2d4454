"""The explanation layer: justification graphs built from the answer set, and their renderers."""
