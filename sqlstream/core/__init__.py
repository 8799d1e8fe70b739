"""The bottom layer: Flink's types, errors, secrets, changelog row kinds, value formatting and the UDF registry.

Every other layer may import it; it imports nothing of sqlstream above it."""
