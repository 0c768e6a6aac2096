"""A synthetic world for the demo, the tests and the benchmarks.

Every person is generated from a seed, so the Haal Centraal server, the
bronnen database and the meldingen agree without sharing files. All BSNs come
from the 999-series test range and pass the elfproef.
"""
