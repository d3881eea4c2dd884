"""The daemon's errors cross process boundaries (the evaluation's worker pool, the router process) intact."""

from __future__ import annotations

import pickle

import pytest

from omnichannel.errors import AuthError, ConfigError, RetryableError


@pytest.mark.parametrize("error, fields", [
    (ConfigError("routing.remits.road_classes", "must be a list of words"),
     {"path": "routing.remits.road_classes", "message": "must be a list of words"}),
    (ConfigError("", "no config"), {"path": "", "message": "no config"}),
    (RetryableError("429 from api.telegram.org", retry_after=7.5), {"retry_after": 7.5}),
    (RetryableError("connection refused"), {"retry_after": None}),
    (AuthError("401 Unauthorized"), {}),
])
def test_an_error_survives_pickling_with_its_fields(error, fields):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    for name, value in fields.items():
        assert getattr(copy, name) == value
