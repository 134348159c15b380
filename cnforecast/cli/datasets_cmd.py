"""``cnforecast datasets``: list, describe, verify and locate the benchmark data sets.

- ``cnforecast datasets list``: every registered data set and where its file is found.
- ``cnforecast datasets info NAME``: the full record of one data set.
- ``cnforecast datasets verify [NAME] [--path P]``: check the local files (sha256 where it
  is known, else the file's structure); files not found are reported. Exit status 1 on a
  checksum mismatch or a malformed file, or when a named data set is missing.
- ``cnforecast datasets path NAME [--path P] [--no-download]``: print the verified local
  path, downloading the file when allowed.

Unknown names exit with status 2, other data-set errors with status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cnforecast.datasets import (
    DATASETS,
    DatasetError,
    DatasetInfo,
    UnknownDatasetError,
    dataset_path,
    find_local,
    get_dataset_info,
    load_dataframe,
    search_locations,
)
from cnforecast.datasets.checksums import file_sha256


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``datasets`` command and its sub-commands."""
    parser = subparsers.add_parser(
        "datasets",
        help="list, describe, verify and locate the benchmark data sets",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    actions = parser.add_subparsers(dest="datasets_command", metavar="ACTION")
    actions.required = True

    list_parser = actions.add_parser("list", help="every registered data set")
    list_parser.set_defaults(func=_list)

    info_parser = actions.add_parser("info", help="the full record of one data set")
    info_parser.add_argument("name", help="data-set name (any case)")
    info_parser.set_defaults(func=_info)

    verify_parser = actions.add_parser(
        "verify", help="check local files: sha256 where known, else their structure"
    )
    verify_parser.add_argument("name", nargs="?", help="one data set (default: all)")
    verify_parser.add_argument("--path", help="a file or a folder to check instead")
    verify_parser.set_defaults(func=_verify)

    path_parser = actions.add_parser("path", help="print the verified local path of a file")
    path_parser.add_argument("name", help="data-set name (any case)")
    path_parser.add_argument("--path", help="a file or a folder holding it")
    path_parser.add_argument(
        "--no-download", action="store_true", help="do not download a missing file"
    )
    path_parser.set_defaults(func=_path)


def _list(args: argparse.Namespace) -> int:
    rows = [("name", "file", "series", "rows", "freq", "checksum", "local copy")]
    for info in DATASETS.values():
        local = find_local(info.name)
        rows.append(
            (
                info.name,
                info.file_name,
                str(info.n_series),
                str(info.n_rows or "?"),
                info.frequency,
                "known" if info.sha256 else "unknown",
                str(local) if local else "not found",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)), row[-1])
    return 0


def _info(args: argparse.Namespace) -> int:
    try:
        info = get_dataset_info(args.name)
    except UnknownDatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    local = find_local(info.name)
    fields = [
        ("name", info.name),
        ("file", info.file_name),
        (
            "series",
            f"{info.n_series}: {', '.join(info.columns[:8])}"
            + (", ..." if info.n_series > 8 else ""),
        ),
        ("rows", str(info.n_rows or "unknown")),
        ("frequency", info.frequency),
        (
            "time column",
            f"{info.time_column} (series indexed by "
            + ("timestamps)" if info.time_index == "datetime" else "row position)"),
        ),
        ("split", info.split.describe()),
        ("sha256", info.sha256 or "unknown (not verified)"),
        ("url", info.url or "none (see how to obtain)"),
        ("source", info.source),
        ("licence", info.licence),
        ("quirks", info.quirks),
        ("how to obtain", info.how_to_obtain),
        ("local copy", str(local) if local else "not found"),
    ]
    width = max(len(label) for label, _ in fields)
    for label, value in fields:
        print(f"{label.ljust(width)}  {value}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    try:
        names = [get_dataset_info(args.name).name] if args.name else list(DATASETS)
    except UnknownDatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = False
    missing: list[str] = []
    for name in names:
        info = DATASETS[name]
        local = find_local(name, args.path)
        if local is None:
            missing.append(name)
            continue
        status, ok = _verify_one(info, local, args.path)
        failed |= not ok
        print(f"{name:<12} {status}: {local}")
    for name in missing:
        places = ", ".join(
            str(loc.path) for loc in search_locations(DATASETS[name].file_name, args.path)
        )
        print(f"{name:<12} missing (looked in {places})")
    if args.name and missing:
        print(
            f"error: {args.name} was not found; `cnforecast datasets info {args.name}` says "
            "how to obtain it",
            file=sys.stderr,
        )
        return 1
    return 1 if failed else 0


def _verify_one(info: DatasetInfo, local: Path, path: str | None) -> tuple[str, bool]:
    try:
        if info.sha256:
            dataset_path(info.name, path, download=False, verify=True)
            return f"ok (sha256 {file_sha256(local)})", True
        load_dataframe(info.name, path, download=False, verify=True)
    except DatasetError as exc:
        return f"FAILED: {exc}", False
    return "structure ok, checksum unknown (not verified)", True


def _path(args: argparse.Namespace) -> int:
    try:
        found = dataset_path(args.name, args.path, download=not args.no_download)
    except UnknownDatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(found)
    return 0
