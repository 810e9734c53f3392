"""The endless aisle's search in one process, without HTTP: how long building the
catalog index takes and what one search over it costs, in English and in Chinese.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<seeded db> .venv/bin/python bench/catalog_search_cpu.py

Runs on a database already seeded (`seed_demo --scale small` or `large`); it only
reads. `bench/aisle_search.py` measures the same search through gunicorn with wrk;
this one needs neither and isolates the index (the part the bilingual text grows).
Prints the catalog's size, the index's text size, its load time, and the median
time per search for each kind of query (English words, Chinese words, mixed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail.settings")

import django

django.setup()

from inventory import aisle, catalog_index  # noqa: E402
from retail.models import Store  # noqa: E402

QUERIES = {
    "english": ["wool", "coat", "navy", "linen shirt", "merino", "jeans", "mug", "dress s"],
    "chinese": ["羊毛", "大衣", "藏青", "亚麻 衬衫", "美利奴", "牛仔裤", "马克杯", "连衣裙"],
    "mixed": ["羊毛 coat", "wool 大衣", "linen 衬衫", "navy 毛衣"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    store = Store.objects.order_by("code").first()
    loads = []
    for _ in range(5):
        started = time.perf_counter()
        index = catalog_index._load()
        loads.append(time.perf_counter() - started)
    catalog_index._loaded.update(version=None, at=0.0, index=None)
    index = catalog_index.catalog_index()
    print(
        f"catalog: {len(index.products)} products, "
        f"{sum(len(p.variants) for p in index.products)} variants; "
        f"index text {len(index.texts.blob):,} characters; "
        f"load {statistics.median(loads) * 1000:.1f} ms (median of 5)"
    )
    for kind, queries in QUERIES.items():
        times, found = [], {}
        for _ in range(args.rounds):
            for query in queries:
                started = time.perf_counter()
                # The index part of a search: every word's matches, intersected.
                terms = aisle._terms(query)
                positions = aisle.matching_positions(index, terms)
                times.append(time.perf_counter() - started)
                found[query] = len(positions)
        page = aisle.catalog_search(query=queries[0], store=store)  # the whole path, once
        print(
            f"{kind:8} median {statistics.median(times) * 1e6:7.1f} µs per search "
            f"(p95 {sorted(times)[int(len(times) * 0.95)] * 1e6:.1f} µs); "
            f"matches {found}; first page of {queries[0]!r}: {len(page.hits)} hits"
        )


if __name__ == "__main__":
    main()
