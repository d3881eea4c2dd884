"""The router's ``omnichannel.protocols.AnswerDesk`` as the daemon hands it to the officer API (named in the
registry): answers, status changes and reassignment (``answers``), merging and splitting cases (``cases``)."""

from __future__ import annotations

from router.delivery import answers, cases


class AnswerDesk(answers.AnswerDesk):
    """Everything an officer's action needs from the router."""

    merge_cases = staticmethod(cases.merge_cases)
    split_case = staticmethod(cases.split_case)
