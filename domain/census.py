"""Which survey is a population's census: the programme's designation (reports use it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CensusRule:
    """Which survey counts as a population's census, where the programme has decided.

    `seasons` maps a population to the season of its census (for example the July
    post-calving aggregation: {"lena-olenek": "post-calving"}): its figure for a year is
    then the largest single-survey count in that season. `surveys` names surveys that are
    censuses outright; one of them that saw the population in the period is used first.
    """

    seasons: Mapping[str, str] = field(default_factory=dict)
    surveys: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, seasons: Iterable[str] = (), surveys: Iterable[str] = ()) -> CensusRule:
        """From "population=season" texts and survey ids (settings and the command line)."""
        pairs = {}
        for text in seasons:
            population, sep, season = text.partition("=")
            if not sep or not population.strip() or not season.strip():
                raise ValueError(f"census season {text!r}: write it as population=season")
            pairs[population.strip()] = season.strip()
        return cls(pairs, frozenset(s.strip() for s in surveys if s.strip()))

    def is_empty(self) -> bool:
        return not self.seasons and not self.surveys
