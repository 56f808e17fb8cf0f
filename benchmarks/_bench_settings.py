"""Settings of benchmarks/reports_pages.py's server: the product's own, with the benchmark's
URLconf (the product's routes plus a minimal view to compare pages with) and its static
files collected into a folder of its own (production serves the collected, hashed files)."""

import os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "_bench_urls"
STATIC_ROOT = os.environ.get("ECRF_BENCH_STATIC_ROOT", STATIC_ROOT)  # noqa: F405
