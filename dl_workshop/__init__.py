"""Solutions package for the course *Deterministic Randomness with JAX*.

Every function here is pure: it takes PRNG keys as arguments and keeps no
state, so the same key always gives the same result.

Modules:

- :mod:`dl_workshop.jax_idioms`: Gaussian random walks and the exercise solutions.
- :mod:`dl_workshop.environment`: the versions a page was executed with.
- :mod:`dl_workshop.versions`: the book's headline values in many JAX releases
  (``make versions``), rendered as tables in chapter 12.
"""

__version__ = "0.1.0"
