"""One measurement per process, so every run starts as cold as a user's would. Prints seconds as JSON.

python workers.py parse DIR              libyaml's CSafeLoader over every YAML file (the cold baseline)
python workers.py load DIR CACHE_DIR     idp-tui's catalog load and search index (cold or warm cache), then
                                         what the TUI builds in the background once the list is shown
python workers.py json FILE              json.loads of the same entities (the warm baseline)
python workers.py search DIR CACHE_DIR   keystroke latencies, idp-tui against a plain substring scan
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def yaml_files(root: str) -> list[str]:
    found = []
    for current, _, names in os.walk(root):
        found += [os.path.join(current, name) for name in names if name.endswith((".yaml", ".yml"))]
    return found


def parse(root: str) -> dict:
    import yaml

    files = yaml_files(root)
    started = time.perf_counter()
    documents = 0
    for path in files:
        with open(path, "rb") as handle:
            documents += sum(1 for _ in yaml.load_all(handle.read().decode("utf-8"), Loader=yaml.CSafeLoader))
    return {"seconds": time.perf_counter() - started, "documents": documents, "files": len(files)}


def load(root: str, cache_dir: str) -> dict:
    from idp_tui.catalog.local_source import LocalCatalogSource
    from idp_tui.catalog.search import SearchIndex

    started = time.perf_counter()
    source = LocalCatalogSource([root], cache_dir=Path(cache_dir))
    catalog = source.load()
    loaded = time.perf_counter()
    index = SearchIndex(catalog.entities)
    indexed = time.perf_counter()
    # What the TUI does once the list is on screen, in the background: the relations' other side, the texts
    # searched, the typo and word indexes. Reported apart: the warm start is the time to the list.
    getattr(catalog, "add_incoming_relations", lambda: None)()  # (an older idp-tui made them in load())
    index.prepare()
    prepared = time.perf_counter()
    return {
        "seconds": indexed - started,
        "load": loaded - started,
        "index": indexed - loaded,
        "background": prepared - indexed,
        "entities": len(catalog),
        "problems": len(catalog.problems),
        "parsed_files": source.stats.parsed,
        "cached_files": source.stats.cached,
    }


def json_loads(path: str) -> dict:
    text = Path(path).read_text()
    started = time.perf_counter()
    entities = json.loads(text)
    return {"seconds": time.perf_counter() - started, "entities": len(entities)}


WORDS = [
    "payment",
    "ledger",
    "checkout",
    "inventory",
    "fraud",
    "notification",
    "settlement",
    "identity",
    "gateway",
    "merchant",
    "shipping",
    "analytics",
]
TYPOS = [
    "paymnet",
    "ledgr",
    "chekout",
    "invnetory",
    "fruad",
    "notifcation",
    "setlement",
    "identiy",
    "gatewya",
    "merhcant",
    "shiping",
    "anlytics",
]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def search(root: str, cache_dir: str) -> dict:
    """Type each word letter by letter, as the TUI does: a first page per keystroke, then the full list."""
    from idp_tui.catalog.local_source import LocalCatalogSource
    from idp_tui.catalog.search import SearchIndex

    catalog = LocalCatalogSource([root], cache_dir=Path(cache_dir)).load()
    index = SearchIndex(catalog.entities)
    index.prepare()
    names = index.names
    page: dict[int, list[float]] = {1: [], 3: [], 6: []}
    full: dict[int, list[float]] = {1: [], 3: [], 6: []}
    scan: dict[int, list[float]] = {1: [], 3: [], 6: []}
    for _ in range(3):
        for word in WORDS + TYPOS:
            index._previous = None  # a new query: nothing to narrow from (forget_previous(), also before it was)
            for length in range(1, 7):
                query = word[:length]
                started = time.perf_counter()
                index.search_page(query)
                paged = time.perf_counter()
                index.search(query)
                done = time.perf_counter()
                [name for name in names if query in name]  # the baseline: a bare substring scan
                scanned = time.perf_counter()
                if length in page:
                    page[length].append(paged - started)
                    full[length].append(done - paged)
                    scan[length].append(scanned - done)
    return {
        str(length): {
            "page_p95": _percentile(page[length], 0.95),
            "full_p95": _percentile(full[length], 0.95),
            "scan_p95": _percentile(scan[length], 0.95),
            "keystrokes": len(page[length]),
        }
        for length in page
    }


def main() -> None:
    command, *args = sys.argv[1:]
    result = {"parse": parse, "load": load, "json": json_loads, "search": search}[command](*args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
