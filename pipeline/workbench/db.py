"""The workbench's database: posts, their claims and the moderators' decisions (SQLAlchemy 2).

The schema is owned by the Alembic migrations in ``migrations/``; ``open_database`` brings any database
up to the newest revision before it is used, so an old file or a fresh PostgreSQL database both work.
SQLite (the default, a file under ``build/``) runs in WAL mode with full syncs: a decision that was
committed survives the server being killed. PostgreSQL is the same code with another URL.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from ..config import PROJECT_ROOT
from ..errors import FactCheckError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERDICTS = ("supported", "contradicted", "unsupported")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class Post(Base):
    """A post as it arrived, with the checker's verdict on it."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))            # form | upload | api
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    verdict: Mapped[str] = mapped_column(String(16), index=True)
    confidence: Mapped[float] = mapped_column(Float, index=True)
    needs_review: Mapped[bool] = mapped_column(Boolean)
    conflict: Mapped[bool] = mapped_column(Boolean, index=True)
    explanation: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)                  # the whole CheckResult, as JSON

    claims: Mapped[list["Claim"]] = relationship(back_populates="post", order_by="Claim.position",
                                                 cascade="all, delete-orphan")

    @property
    def reviewed(self) -> bool:
        return all(claim.decisions for claim in self.claims)


class Claim(Base):
    """One checked claim of a post (or, when nothing in the post was checkable, the post itself, with
    ``checkable`` false), with what the claim memory needs: normalised text and embedding."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)                    # the sentence as the post has it
    checked_claim: Mapped[str] = mapped_column(Text)           # the claim as checked, its framing stripped
    checkable: Mapped[bool] = mapped_column(Boolean)
    verdict: Mapped[str] = mapped_column(String(16))           # on the poster's position
    claim_verdict: Mapped[str] = mapped_column(String(16))     # the sources' verdict on checked_claim
    stance: Mapped[str] = mapped_column(String(16))            # what the post does with it: asserts | denies | reports
    confidence: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)                # JSON list of Evidence, best first
    conflict: Mapped[str | None] = mapped_column(Text)         # JSON of the Conflict, where the sources disagree
    normalised: Mapped[str] = mapped_column(Text)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32, unit length
    embedding_model: Mapped[str | None] = mapped_column(String(200))

    post: Mapped[Post] = relationship(back_populates="claims")
    decisions: Mapped[list["Decision"]] = relationship(back_populates="claim", order_by="Decision.id",
                                                       cascade="all, delete-orphan")

    @property
    def evidence_list(self) -> list[dict]:
        return json.loads(self.evidence)

    @property
    def conflict_dict(self) -> dict | None:
        return json.loads(self.conflict) if self.conflict else None

    @property
    def latest_decision(self) -> "Decision | None":
        return self.decisions[-1] if self.decisions else None


class Decision(Base):
    """A moderator's decision on a claim's verdict; never updated, so the rows are the history."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))            # accepted | overridden
    verdict: Mapped[str] = mapped_column(String(16))           # the verdict the moderator settled on
    system_verdict: Mapped[str] = mapped_column(String(16))    # the checker's, at the time
    note: Mapped[str] = mapped_column(Text)
    moderator: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    claim: Mapped[Claim] = relationship(back_populates="decisions")


# --------------------------------------------------------------------------- opening

def database_url(value: str) -> str:
    """A SQLAlchemy URL from what a user types: a URL, or a plain file path (a SQLite file). A relative
    SQLite path is relative to the project root, like every other configured path; ``postgresql://``
    uses psycopg 3."""
    if "://" not in value:
        value = f"sqlite:///{value}"
    try:
        url = make_url(value)
    except ArgumentError:
        raise FactCheckError(f"database '{value}' is not a database URL (e.g. sqlite:///build/workbench.db or "
                             "postgresql://user:password@host/name)") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    elif url.drivername == "sqlite":
        if url.database and url.database != ":memory:" and not Path(url.database).is_absolute():
            url = url.set(database=str(PROJECT_ROOT / url.database))
    elif not url.drivername.startswith("postgresql+"):
        raise FactCheckError(f"database '{value}': only sqlite and postgresql are supported")
    return url.render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_settings(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")    # readers never wait for the writer
    cursor.execute("PRAGMA synchronous=FULL")    # a commit is on disk before it is acknowledged
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@dataclass
class Database:
    url: str
    engine: Engine
    sessions: sessionmaker

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed at the end of the block (rolled back on an error)."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_database(value: str) -> Database:
    """Open (and create, for SQLite) the database at ``value`` and migrate it to the newest schema."""
    url = database_url(value)
    parsed = make_url(url)
    if parsed.drivername == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Threads share the pool (as many connections as the server has worker threads); a writer waits up
        # to 30 s for another's lock instead of failing.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20,
                               max_overflow=30)
        event.listen(engine, "connect", _sqlite_settings)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=30)
    try:
        migrate(engine)
    except (OperationalError, SQLAlchemyError, OSError) as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise FactCheckError(f"cannot open database {shown_url(url)}: {reason}") from None
    return Database(url, engine, sessionmaker(engine, expire_on_commit=False))


def migrate(engine: Engine) -> None:
    """Run the Alembic migrations up to head, in-process (no alembic.ini needed)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    settings = AlembicConfig()
    settings.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        settings.attributes["connection"] = connection
        command.upgrade(settings, "head")


def schema_revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
