"""The methods note every report carries: what was counted, and how (plain sentences).

Each paragraph is one catalogue message with its thresholds as parameters, so a translator
sees whole paragraphs, and numbers come out in the reader's format (24 hours, "0,5 км").
The note is made once with the report; it is worded when the report is rendered.
"""

from __future__ import annotations

from domain.census import CensusRule
from domain.i18n import DEFAULT_LANGUAGE, Joined, Message, Translator, translator
from domain.periods import ReportPeriod
from geo.dedup import DedupParams
from reports.minimum import WINDOW_GAP_DAYS, WINDOW_MAX_DAYS
from reports.words import PopulationName, SeasonName, each_year


class Paragraph(str):
    """A paragraph of the note: its English text (what str operations see, so the note
    reads as text anywhere), and the message that words it in another language."""

    message: Message

    def __new__(cls, message: Message) -> Paragraph:
        made = super().__new__(cls, message.render(translator(DEFAULT_LANGUAGE)))
        made.message = message
        return made

    def render(self, t: Translator) -> str:
        return self.message.render(t)

    def __getnewargs__(self) -> tuple[Message]:  # type: ignore[override]
        return (self.message,)  # pickled and copied as the message, not its English text


def paragraph_text(paragraph: str, t: Translator) -> str:
    """A paragraph in t's language (a plain string, for one, is shown as it is)."""
    return paragraph.render(t) if isinstance(paragraph, Paragraph) else paragraph


def methods_note(
    p: ReportPeriod,
    params: DedupParams,
    decisions: int,
    refused: list[tuple[int, int]],
    census: CensusRule | None = None,
) -> tuple[str, ...]:
    """Paragraphs for the report's methods section, with the thresholds actually used."""
    messages = (
        Message(
            "What was counted. A sighting is one herd seen once by one team. Sightings "
            "overcount: two teams, two flights or two days can see the same herd. This report "
            "therefore counts de-duplicated herds, a herd seen more than once taking the "
            "largest count among its sightings. The 'sighting total' column is the raw sum of "
            "sightings, shown only for comparison: it is not a population count. Neither "
            "figure is a population estimate; no correction for herds that were missed is "
            "applied."
        ),
        _surveys_paragraph(census or CensusRule()),
        _transects_paragraph(),
        Message(
            "De-duplication. Two sightings are candidates for one herd when they are at most "
            "{max_hours} hours apart and their distance in the equal-area projection "
            "EPSG:3576 is at most {base_km} km plus {speed} km/h times the hours between "
            "them (a generous reindeer travel speed), capped at {max_km} km; their counts "
            "are similar (the larger at most {ratio} times the smaller plus {slack}) and, "
            "when both classified at least {classified} animals, no sex/age share differs by "
            "more than {share} percentage points. Candidates join into herds closest first, "
            "but a herd may not stretch beyond {extent_km} km or {span_hours} hours, so "
            "chains of near neighbours do not merge distant sightings.",
            max_hours=params.max_hours,
            base_km=params.base_km,
            speed=params.max_speed_kmh,
            max_km=params.max_distance_km,
            ratio=params.size_ratio,
            slack=params.size_slack,
            classified=params.min_classified,
            share=round(100 * params.max_composition_diff, 6),
            extent_km=params.max_extent_km,
            span_hours=params.max_span_hours,
        ),
        _decisions_paragraph(decisions, refused),
        _periods_paragraph(p),
        Message(
            "Composition. A herd's composition comes from its best-classified sighting. "
            "Calves and bulls per 100 adult females and the percentage of calves among "
            "classified animals are ratio estimates over herds, each herd a cluster (animals "
            "in one herd are not independent). 95% intervals use the linearised variance of a "
            "ratio estimator, Σ(yᵢ − R·xᵢ)² / (n(n−1)x̄²), with Student's t on n−1 degrees of "
            "freedom (Cochran 1977, §6.4); lower ends are clipped at zero. Where no herd had "
            "an animal of the class, the upper end is the exact Poisson bound for none seen, "
            "3.69 animals, over the denominator."
        ),
        Message(
            "Effort. Surveys are those with sightings of the population in the period; "
            "survey-days run from a survey's start to its end, and kilometres or square "
            "kilometres come from its track or area where recorded. A herd's count is "
            "credited to the survey of its largest sighting. Counts per unit of effort are "
            "minimum counts divided by that effort."
        ),
        Message(
            "Trend. For {each} up to {year}, the minimum counts are fitted by a log-linear "
            "quasi-Poisson model, log E[count] = a + b·year (a generalised linear model "
            "fitted by iteratively reweighted least squares, dispersion from Pearson's X² "
            "over n−2). The annual rate of change is exp(b) − 1, with a 95% interval "
            "exp(b ± t·se(b)) − 1 on n−2 degrees of freedom. Years with no sightings of a "
            "population are treated as not surveyed, not as zero. Minimum counts depend on "
            "survey effort: a trend is only as comparable as the surveys. The trend of all "
            "populations together is not fitted to their yearly sum (that would count a "
            "population's unsurveyed years as zero): one quasi-Poisson model, log E[count] = "
            "a_population + b·year, is fitted to every population's surveyed years, a level "
            "per population and one common slope, dispersion from Pearson's X² over "
            "n − k − 1 for k populations; each population's own slope is given beside it. "
            "Each year's count is that year's largest survey unless the population has a "
            "census season configured, so a series may join counts of different seasons; "
            "the table says which seasons each series' counts come from.",
            each=each_year(p),
            year=str(p.year),  # a year, not a quantity: never "2 024"
        ),
        Message(
            "Files. The CSV tables write numbers as programs read them (a decimal point, no "
            "thousands separator) and keep codes as the API gives them (population, survey "
            "and season ids, dates in ISO 8601), in every language; only their header row "
            "follows the report's language. The GeoPackage layer 'herds' keeps its ASCII "
            "field names (population, size, first_seen, …) in every language, so scripts "
            "and GIS projects work with either."
        ),
    )
    return tuple(Paragraph(m) for m in messages)


def _decisions_paragraph(decisions: int, refused: list[tuple[int, int]]) -> Message:
    sentences: list[str | Message] = [
        Message(
            "Researchers' decisions. Decisions made: {n} (confirm, reject, merge, split), "
            "each kept with who made it and when; they override the automatic rule for the "
            "sightings they name, and later decisions win.",
            n=decisions,
        )
    ]
    if refused:
        sentences.append(
            Message("Decided links blocked by a later rejection or split: {n}.", n=len(refused))
        )
    sentences.append(Message("Undecided candidates follow the rule above."))
    return Joined(sentences, " ")


def _transects_paragraph() -> Message:
    return Message(
        "Population estimates. Where a survey records its strata (an area, the transects "
        "flown across it and the width of the strip counted along each), the number of "
        "animals in each stratum is estimated by Jolly's Method II for sampling units of "
        "unequal size (Jolly 1969): the animals counted per km² of strip, R = Σy/Σz, times "
        "the stratum's area Z, with variance N(N−n)/n·(s_y² − 2R·s_yz + R²·s_z²) from the "
        "variation between the n transects (N = Z/z̄; N−n the finite population "
        "correction), and a 95% interval with Student's t on n−1 degrees of freedom. A "
        "herd is in a transect's strip when its defining sighting lies inside the stratum "
        "within half the strip width of the line (the nearest line where strips overlap), "
        "all measured in a Lambert azimuthal equal-area projection centred on the stratum "
        "(areas exact, lengths within 0.03% across 300 km). Strata add up with their "
        "variances (degrees of freedom "
        "by Satterthwaite). Assumptions: every animal in a strip is seen and counted, "
        "transects are placed independently of where the animals are, and animals do not "
        "move between strips during the survey; no correction is made for animals missed. "
        "Estimates are given in their own table and never mixed with minimum counts."
    )


def _periods_paragraph(p: ReportPeriod) -> Message:
    if p.every == "month":
        return Message(
            "Periods. Periods are calendar months in the observer's local time; a herd "
            "belongs to the period of its first sighting. Change is from month to month: the "
            "previous period's minimum count for the same population and area."
        )
    if p.every == "season":
        return Message(
            "Periods. Periods are the seasons of the calendar in the observer's local time; "
            "a herd belongs to the period of its first sighting. Change is from season to "
            "season: the previous period's minimum count for the same population and area."
        )
    return Message(
        "Periods. Periods are calendar years in the observer's local time; a herd belongs "
        "to the period of its first sighting. Change is from year to year: the previous "
        "period's minimum count for the same population and area."
    )


def _surveys_paragraph(census: CensusRule) -> Message:
    """How a period's minimum count is taken from one survey, and which survey."""
    designated: Message
    if census.is_empty():
        designated = Message(
            "No census survey is designated, so the largest survey's count is used."
        )
    else:
        parts: list[str | Message] = [
            Message(
                "{population}: the {season} season",
                population=PopulationName(pop),
                season=SeasonName(season),
            )
            for pop, season in sorted(census.seasons.items())
        ]
        parts += [Message("survey {survey}", survey=s) for s in sorted(census.surveys)]
        designated = Message(
            "The programme designates as census {designated}. Where a census survey saw the "
            "population, its count is used instead of the largest.",
            designated=Joined(tuple(parts), "; "),
        )
    return Message(
        "Minimum count. Herds are de-duplicated within a survey (and between the teams of "
        "one survey), but repeated surveys of the same range see the same animals again: "
        "adding them up would count a population several times. Each herd is credited to "
        "the survey of its largest sighting, and a survey's minimum count is the sum of "
        "its herds' sizes. A population's minimum count for a period (and for each area) "
        "is therefore the count of ONE survey, never a sum across surveys: the largest "
        "single-survey count in the period. {designated} The 'From survey' column names "
        "the survey each figure comes from, and the table of surveys gives every "
        "survey's own count. 'All populations' adds up each population's own figure. "
        "Sightings that name no survey are grouped into survey windows: per population, "
        "in order of local date, a window runs while the gap between sightings is at most "
        "{gap} days, and is at most {longest} days long. The change from the previous "
        "period and the trend use the same figure. Composition is given per survey, never "
        "pooled across surveys or seasons (calves are born in May and June: calves per "
        "100 cows in March and July measure different things).",
        designated=designated,
        gap=WINDOW_GAP_DAYS,
        longest=WINDOW_MAX_DAYS,
    )
