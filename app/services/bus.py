"""The message bus: one handler per command, each in its own unit of work.

    outcome = bus.handle(ReceiveUnits(command_id=..., receipt_id=..., gtin=...))

A handler runs the domain rule, writes the local state and its outbox op through the unit of work,
and returns an `Outcome`. The bus records the command id and the outcome in the same transaction,
then commits: a second `handle` of the same command id returns the first outcome (marked
`repeated`) and writes nothing. A refusal is a `DomainError` raised by the handler; the transaction
is rolled back and the error reaches the caller unchanged.

A command from a session that has ended (the offline policy, `app.services.people`: 12 hours from
an online sign-in, 4 from an offline one, or signed out) is refused with `people.SessionExpired`
before its handler runs; a repeat of a command already handled still gets its first outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from app.domain.commands import Command
from app.domain.context import Actor, Clock
from app.domain.policy import StorePolicy
from app.services import people
from edge_sync.uow import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a handled command did, in words for the screen and data for the view-model."""

    message: str
    data: dict[str, Any] = field(default_factory=dict)
    repeated: bool = False


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """What every handler gets besides its command and unit of work."""

    actor: Actor
    clock: Clock
    policy: StorePolicy


Handler = Callable[[Any, UnitOfWork, HandlerContext], Outcome]


class UnknownCommand(LookupError):
    """No handler is registered for this command type (a wiring mistake, not a user error)."""


class MessageBus:
    """Dispatches commands to their handlers, once per command id."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        handlers: Mapping[type[Command], Handler],
        *,
        clock: Clock,
        policy: StorePolicy,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._handlers = dict(handlers)
        self._clock = clock
        self._policy = policy
        self.after_commit = after_commit
        """Called after each commit (the sync scheduler's `kick`); must not block."""

    def handle(self, command: Command, actor: Actor) -> Outcome:
        """Handle `command` for `actor`; raises DomainError when refused (SessionExpired when the
        actor's session has ended)."""
        handler = self._handlers.get(type(command))
        if handler is None:
            raise UnknownCommand(type(command).__name__)
        ctx = HandlerContext(actor=actor, clock=self._clock, policy=self._policy)
        with self._uow_factory() as uow:
            prior = uow.handled_command(command.command_id)
            if prior is not None:
                return replace(_outcome_from(prior), repeated=True)
            people.require_active_in(uow.conn, actor, self._clock.now())
            outcome = handler(command, uow, ctx)
            uow.record_command(
                command.command_id,
                type(command).__name__,
                {"message": outcome.message, "data": outcome.data},
                self._clock.now(),
            )
            uow.commit()
        if self.after_commit is not None:
            self.after_commit()
        return outcome


def _outcome_from(stored: dict[str, Any]) -> Outcome:
    return Outcome(message=str(stored.get("message", "")), data=dict(stored.get("data") or {}))
