"""Solutions package for the course *Deterministic Randomness with JAX*.

Every function here is pure: it takes PRNG keys as arguments and keeps no
state, so the same key always gives the same result.

Modules:

- :mod:`dl_workshop.jax_idioms`: Gaussian random walks and the exercise solutions.
- :mod:`dl_workshop.environment`: the versions a page was executed with.
"""

__version__ = "0.1.0"
