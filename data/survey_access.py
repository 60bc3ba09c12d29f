"""Who may create, read and attach sightings to a survey (README: "Surveys and roles").

- Researchers and admins create surveys and read every survey.
- An observer reads the surveys whose team lists them, and attaches sightings
  (`survey_id`) only to those: a survey that exists and names them in its team. An id that
  names no survey is refused too, so an observer cannot claim a survey's id before a
  researcher registers it.
- Admins attach to any survey (they correct records); researchers upload nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from data.store import ObservationStore
from domain.errors import NotFound
from domain.i18n import Message
from domain.records import Survey, User

READ_ALL = frozenset({"researcher", "admin"})


def may_read(user: User, survey: Survey) -> bool:
    return user.role in READ_ALL or user.name in survey.team


def closed_surveys(store: ObservationStore, user: User, ids: Iterable[str]) -> dict[str, Message]:
    """The survey ids among `ids` that `user` may not attach sightings to, with the reason."""
    if user.role == "admin":
        return {}
    closed: dict[str, Message] = {}
    for survey_id in set(ids):
        try:
            survey = store.get_survey(survey_id)
        except NotFound:
            closed[survey_id] = Message(
                "no survey {survey}: a researcher registers it first", survey=repr(survey_id)
            )
            continue
        if user.name not in survey.team:
            closed[survey_id] = Message(
                "survey {survey} is not open to {user}: not in its team",
                survey=repr(survey_id),
                user=user.name,
            )
    return closed
