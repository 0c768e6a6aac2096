"""Local Haal Centraal server: BRP Personen and Reisdocumenten on the synthetic population.

Why it exists: the pipeline and its clients must be exercised against the real
contract (POST with a JSON query, a ``type`` discriminator, mandatory ``fields``,
``application/problem+json`` errors) without ever touching the BRP. The contract
is read from the official OpenAPI specifications vendored in ``specs/``
(:mod:`.spec`), and the server can misbehave on purpose (latency, 5xx, 429,
timeouts, broken bodies; :mod:`.state`) so that tests can prove an error never
turns into "nee".

Modules: ``spec`` (the contract), ``fields`` (``fields`` paths and projection),
``data`` (persons as resources), ``problems`` (problem+json), ``state``
(faults, latency, counters), ``server`` (HTTP and the public server class).

Privacy: the server never logs requests, bodies or BSNs; problem responses name
the faulty parameter but never echo its value.
"""

from nazorg_dev.sim.haal_centraal.server import HaalCentraalSimServer, serve_forever
from nazorg_dev.sim.haal_centraal.state import FAULTS, SimConfig

__all__ = ["FAULTS", "HaalCentraalSimServer", "SimConfig", "serve_forever"]
