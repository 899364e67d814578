"""``pipeline.commpeak`` is the import surface: every exported name resolves, none is private."""

from __future__ import annotations

import pipeline.commpeak as commpeak
from pipeline.commpeak import errors


def test_every_exported_name_resolves_and_is_public():
    assert commpeak.__all__, "the package exports nothing"
    for name in commpeak.__all__:
        assert not name.startswith("_"), name
        assert getattr(commpeak, name) is not None, name


def test_every_error_class_is_exported():
    classes = [
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.CommPeakError)
    ]
    assert len(classes) == 14
    assert set(classes) <= set(commpeak.__all__)


def test_exported_client_comes_from_the_package():
    client = commpeak.CommPeakClient("https://api.commpeak.com", "k", max_retries=2)
    assert (client.base_url, client.max_retries) == ("https://api.commpeak.com", 2)
