"""Evaluation: routing and grouping quality on labelled files (``omnichannel eval``)."""
