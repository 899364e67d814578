"""Committed reference tables (data/reference/) and the scripts that rebuild them."""
