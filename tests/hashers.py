from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 at test-sized costs. The algorithm name is the same, so hashes read
    ``argon2$…`` and upgrades behave as in production; only the suite gets faster."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1
