"""Helpers shared by several test folders, imported as ``from support.<module> import ...``
(``tests`` is on the pytest pythonpath). A regular package with a unique name, never conftest:
test folders have no __init__.py, so ``from conftest import`` depends on collection order."""
