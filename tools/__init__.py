"""Maintainer-only scripts: rebuild the committed reference tables in pipeline/reference/."""
