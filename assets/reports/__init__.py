"""Altair reports that read marts only."""
