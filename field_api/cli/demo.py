"""`herdwatch demo`: load labelled synthetic demo data and print demo logins."""

from __future__ import annotations

import argparse
from typing import Any

from data.store import ObservationStore
from domain.i18n import Message
from domain.records import ObservationQuery
from field_api.cli.common import Command, _, open_migrated_store, say
from field_api.settings import Settings


def add_arguments(subparsers: Any) -> None:
    """Register `demo` on the main parser."""
    demo = subparsers.add_parser("demo", help=_("load labelled synthetic demo data"))
    demo.add_argument(
        "--if-empty", action="store_true", help=_("only when the store holds no observations")
    )
    demo.add_argument("--per-survey", type=int, default=60)


def demo(args: argparse.Namespace, settings: Settings) -> int:
    """Load the labelled synthetic data set (unless asked to skip a store that has data)."""
    from data.demo import demo_dataset

    store = open_migrated_store(settings, args)
    try:
        if args.if_empty and store.count_observations(ObservationQuery(include_retracted=True)) > 0:
            print(_("store already holds observations: demo data not loaded"))
        else:
            surveys, observations = demo_dataset(per_survey=args.per_survey)
            for survey in surveys:
                store.add_survey(survey)
            for start in range(0, len(observations), 2000):
                store.add_observations(observations[start : start + 2000], actor="demo")
            print(
                say(
                    Message(
                        "loaded {observations} SYNTHETIC observations in {surveys} surveys "
                        "(flag 'synthetic'; not real survey data)",
                        observations=len(observations),
                        surveys=len(surveys),
                    )
                )
            )
        _print_demo_logins(store)
    finally:
        store.close()
    return 0


def _print_demo_logins(store: ObservationStore) -> None:
    """Fresh demo tokens each time: stored tokens are hashed, so old ones cannot be shown."""
    names = {u.name for u in store.list_users()}
    tokens = {}
    for name, role in (("demo-researcher", "researcher"), ("demo-observer", "observer")):
        tokens[name] = store.add_token(name) if name in names else store.add_user(name, role)
    print(_("demo logins (synthetic data):"))
    print(say(Message("  researcher token: {token}", token=tokens["demo-researcher"])))
    print(say(Message("  observer token:   {token}", token=tokens["demo-observer"])))


COMMANDS: dict[str, Command] = {"demo": demo}
