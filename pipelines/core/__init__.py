"""Core: settings, validated config, warehouse and lake access, quality checks, partitions, frame helpers.

The bottom layer: it imports no other package of this project (see the import-linter contract in
pyproject.toml).
"""
