"""Hypothesis profiles for the property tests.

CI (``CI=true``) runs the ``ci`` profile: derandomized, so a run is reproducible from the
commit alone, and without the example database (a fresh clone has none to replay). Locally
the ``dev`` profile explores new examples every run and replays the failures it saved in
``.hypothesis/``; ``HYPOTHESIS_PROFILE=ci`` reproduces CI's run. Each test bounds its own
``max_examples`` so the whole folder stays well under a minute.
"""

import os

from hypothesis import HealthCheck, settings

# The Django tests use pytest-django's function-scoped ``db`` and client fixtures across
# examples on purpose: each example works inside its own rolled-back savepoint (``rolled_back``
# in strategies.py), so the shared fixture state is the same for every example.
_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture],
}
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, **_COMMON)
settings.register_profile("dev", **_COMMON)
in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if in_ci else "dev"))
