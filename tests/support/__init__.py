"""Helpers of the tests, imported as ``from support.<module> import ...`` (``tests`` is on the
pytest pythonpath). pytest runs with ``--import-mode=importlib``, which puts no test folder on
sys.path: a module next to the tests cannot be imported by name, so every helper lives here.
Fixtures stay in each folder's conftest.py; test modules never import a conftest."""
