"""Solutions package for the course *Deterministic Randomness with JAX*.

Every function here is pure: it takes PRNG keys as arguments and keeps no
state, so the same key always gives the same result.

Modules:

- :mod:`dl_workshop.jax_idioms`: Gaussian random walks and the exercise solutions.
- :mod:`dl_workshop.checkers`: the exercises' answer checkers.
- :mod:`dl_workshop.key_hygiene`: key trees with ``fold_in``, and no key reuse.
- :mod:`dl_workshop.reproducibility`: fingerprints, fresh processes, two CPUs compared.
- :mod:`dl_workshop.cpus`: this CPU, and the older ones XLA can compile for (no JAX).
- :mod:`dl_workshop.performance`: many walks computed seven ways, and timed fairly.
- :mod:`dl_workshop.environment`: the versions a page was executed with.
- :mod:`dl_workshop.versions`: the book's headline values in many JAX releases
  (``make versions``), rendered as tables in chapter 12.
"""

__version__ = "0.1.0"
