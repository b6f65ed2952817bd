"""The moderator workbench: a web review queue over one ``FactChecker``, kept in a real database.

- ``db``: SQLAlchemy models (posts, their claims, the moderators' decisions) and opening a database, with
  the Alembic migrations in ``migrations/`` run at start-up;
- ``memory``: the claim memory, which matches a new claim against claims a moderator already reviewed;
- ``replies``: the suggested reply to a contradicted or unsupported post;
- ``security``: the bind rule, moderator logins (argon2 hashes), sessions and CSRF tokens;
- ``app``: the FastAPI app (server-rendered Jinja2 pages and a JSON API) and ``serve``.
"""
