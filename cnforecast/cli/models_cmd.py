"""``cnforecast models``: the registered models, their defaults and whether they can run here."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``models`` command."""
    parser = subparsers.add_parser(
        "models",
        help="list the registered models (or show one's defaults)",
        description="The models cnforecast can build by name (fit --model, bench --models).",
    )
    parser.add_argument("name", nargs="?", help="show this model's default settings")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cnforecast.models.registry import MODELS, get_model_spec

    if args.name:
        try:
            spec = get_model_spec(args.name)
        except KeyError as err:
            print(f"error: {err}")
            return 2
        print(f"{spec.name}: {spec.description}")
        missing = spec.missing_dependencies()
        print("available: " + ("yes" if not missing else f"no (missing {', '.join(missing)})"))
        covariates = [
            kind
            for kind, ok in (
                ("past", spec.supports_past_covariates),
                ("future", spec.supports_future_covariates),
                ("static", spec.supports_static_covariates),
            )
            if ok
        ]
        print(f"covariates: {', '.join(covariates) or 'none'}")
        print(f"probabilistic: {'yes' if spec.probabilistic else 'no'}")
        print("defaults: " + json.dumps(dict(spec.defaults), default=_name, indent=2))
        return 0
    width = max(len(name) for name in MODELS)
    for name, spec in MODELS.items():
        missing = spec.missing_dependencies()
        state = "" if not missing else f"  [needs {', '.join(missing)}]"
        print(f"{name:<{width}}  {spec.description}{state}")
    return 0


def _name(value: object) -> str:
    return getattr(value, "__name__", repr(value))
