"""The only door to the game: one method per command, plus resume, presence, timers and upkeep.

Routes (REST, long-poll, WebSocket) call these methods and nothing below them: the service holds the clock,
the chance and the word bank the engine needs, runs each command through `store.mutate`, and decides for
every transport alike whether a returning client gets the events it missed or a snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from backend.core.config import Settings
from backend.core.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, Unauthorized, Unavailable
from backend.core.limits import ClientLimits, Limit
from backend.game.engine import GUESS_MAX, Room, RoomLimits, game_limits
from backend.game.events import MAX_EVENT_ID, Event, StoredEvent
from backend.game.text import clean_name, clean_text
from backend.game.vocabulary import (
    CLUE_MAX,
    CUSTOM_PACK_MAX_CHARS,
    NAME_MAX,
    EventType,
    GameLimits,
    Language,
    Phase,
    RoomSummary,
    SettingsView,
    Snapshot,
    TieRule,
    VoteReveal,
)
from backend.game.words import PackLibrary, WordBank
from backend.metrics import TRANSPORTS, Metrics
from backend.realtime.hub import Hub
from backend.realtime.protocol import CloseCode, Transport
from backend.store import LogSlice, Once, Store

if TYPE_CHECKING:
    from backend.flags import TransportFlag

__all__ = [
    "CUSTOM_PACK_MAX_CHARS",
    "GAME_LIMITS",
    "MAX_EVENT_ID",
    "BotAdded",
    "Credentials",
    "Language",
    "Phase",
    "Resume",
    "RoomService",
    "RoomSummary",
    "SettingsChanged",
    "Snapshot",
    "TieRule",
    "VoteReveal",
    "normalize_code",
    "valid_clue",
    "valid_guess",
    "valid_name",
]

T = TypeVar("T")
log = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L look-alikes
CODE_LENGTH = 5
GAME_LIMITS: GameLimits = game_limits()  # what request models validate against, as the snapshot tells clients


def new_room_code(rng: random.Random | secrets.SystemRandom) -> str:
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_epoch() -> str:
    return secrets.token_hex(6)


# built once: json.dumps with arguments builds an encoder per call, a cost on every move
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode


def fingerprint(body: dict[str, Any]) -> str:
    """A short digest of a move's parsed body, kept with its first answer to tell a retry from a reused key."""
    return hashlib.sha256(_canonical(body).encode()).hexdigest()[:32]


def normalize_code(code: str) -> str:
    return code.strip().upper()


def valid_name(raw: str) -> str:
    """A player name as the rules accept it (trimmed), or ValueError for a request model to report."""
    return _valid(raw, "name", NAME_MAX)


def valid_clue(raw: str) -> str:
    return _valid(raw, "clue", CLUE_MAX)


def valid_guess(raw: str) -> str:
    return _valid(raw, "guess", GUESS_MAX)


def _valid(raw: str, field_name: str, max_len: int) -> str:
    try:
        if field_name == "name":
            return clean_name(raw, max_len=max_len)
        return clean_text(raw, field_name=field_name, max_len=max_len)
    except Invalid as exc:
        raise ValueError(exc.message) from None


@dataclass(frozen=True)
class Credentials:
    room_code: str
    player_id: str
    token: str


@dataclass(frozen=True)
class Resume:
    """What a returning client gets: the events after its last id, or a snapshot when the log cannot say."""

    events: list[StoredEvent]
    snapshot: Snapshot | None
    last_event_id: int
    transport: Transport  # the transport the server wants this player on
    epoch: str  # the room history `last_event_id` belongs to

    @property
    def recovered(self) -> bool:
        return self.snapshot is None


class BotAdded(TypedDict):
    player_id: str
    name: str
    last_event_id: int


class SettingsChanged(TypedDict):
    settings: SettingsView
    last_event_id: int


class RoomService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        hub: Hub,
        metrics: Metrics,
        *,
        words: WordBank | PackLibrary | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.hub = hub
        self.metrics = metrics
        self.words = words or PackLibrary.default()  # loaded and checked here, at startup
        self.clock = clock
        self.rng = rng or random.SystemRandom()
        self.limits = RoomLimits(
            clue_interval_seconds=settings.clue_interval_seconds,
            max_clues_per_round=settings.max_clues_per_round,
            bot_min_delay_seconds=settings.bot_min_delay_seconds,
            bot_max_delay_seconds=settings.bot_max_delay_seconds,
        )
        self.guard = ClientLimits(settings, metrics)
        self._longpolls: dict[tuple[str, str], int] = {}  # (code, player) -> long-polls held right now
        self._resyncs: set[asyncio.Task[None]] = set()
        self._pollers: dict[tuple[str, str], tuple[float, Transport]] = {}  # (code, player) -> (seen at, transport)
        self._next_timer: float | None = None
        self._timer_failing = False
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.flag: TransportFlag | None = None  # the rollout flag, attached by `backend.wiring` when it runs
        self.draining = False
        store.subscribe(hub.publish)
        store.subscribe(self._on_commit)
        store.subscribe_resets(self._on_room_reset)

    # ---- lifecycle -------------------------------------------------------------------------------------

    async def open(self) -> None:
        await self.store.start()
        # Everything built so far (modules, app, settings) lives as long as the process: move it out of the
        # collector's reach, so full collections scan only what games allocate and pause the loop less.
        gc.collect()
        gc.freeze()
        self._tasks = [
            asyncio.create_task(self._timer_loop(), name="parlor-timers"),
            asyncio.create_task(self._maintenance_loop(), name="parlor-maintenance"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.guard.close()
        await self.store.close()

    async def readiness(self) -> str:
        """ "ready", or why this process should get no new players now ("draining", "store unavailable", or the
        store's eviction hazard: a Redis that may drop rooms silently is not fit to take games)."""
        if self.draining:
            return "draining"
        if not await self.store.ping():
            return "store unavailable"
        hazard = await self.store.eviction_hazard()
        if hazard is not None:
            return f"store can evict rooms: {hazard}"
        return "ready"

    # ---- rooms and seats -------------------------------------------------------------------------------

    async def create_room(
        self, name: str, address: str = "local", *, language: Language | None = None
    ) -> tuple[str, Credentials]:
        """A new room with `name` as host, in `language` (with that language's pack) when one is given."""
        await self.guard.hit(Limit.CREATE, address)
        await self.guard.check_room_quota(address, self.store.room_codes)
        if await self.store.count_rooms() >= self.settings.max_rooms:
            self.metrics.limit_refusals.labels("room_quota").inc()
            raise Unavailable("the server holds as many rooms as it can; try again later", "too_many_rooms")
        now = self.clock()
        token = secrets.token_urlsafe(24)
        player_id = self.new_player_id()
        for _ in range(20):
            code = new_room_code(self.rng)
            room, events = Room.create(
                code,
                host_id=player_id,
                host_name=name,
                token_hash=hash_token(token),
                now=now,
                limits=self.limits,
                epoch=new_epoch(),
                address_hash=hash_token(address),
                language=language,
                packs=self.words.languages() if isinstance(self.words, PackLibrary) else None,
            )
            try:
                self._count(await self.store.create_room(room, events, now))
            except Conflict as exc:
                if exc.code == "room_exists":
                    continue
                raise
            await self.guard.hosted.add(address, code)
            return code, Credentials(code, player_id, token)
        raise Unavailable("could not allocate a room code", "too_many_rooms")

    async def join(self, code: str, name: str, address: str = "local") -> Credentials:
        """Take a seat; a miss counts toward the address's unknown-code budget, a banned name or address is 403."""
        await self.guard.check_misses(address)
        await self.guard.hit(Limit.JOIN, address)
        token = secrets.token_urlsafe(24)
        player_id = self.new_player_id()
        address_hash = hash_token(address)
        try:
            await self._mutate(
                code, lambda r: r.join(player_id, name, hash_token(token), self.clock(), address_hash=address_hash)
            )
        except NotFound:
            await self.guard.miss(address)
            raise
        except Forbidden as exc:
            if exc.code == "banned":
                self.metrics.limit_refusals.labels("banned").inc()
            raise
        return Credentials(normalize_code(code), player_id, token)

    async def authenticate(self, code: str, player_id: str | None, token: str | None) -> Credentials:
        """Check a token in constant time; without a player id the token alone identifies the seat."""
        code = normalize_code(code)
        if not token:
            raise Unauthorized("missing token", "missing_token")
        digest = hash_token(token)

        def find(room: Room) -> str | None:
            found = None
            for player in room.players.values():
                ok = hmac.compare_digest(player.token_hash, digest) and not player.is_bot
                if ok and (player_id is None or player.id == player_id):
                    found = player.id
            return found

        found = await self.store.read(code, find)
        if found is None:
            raise Unauthorized("invalid token for this room", "bad_token")
        return Credentials(code, found, token)

    async def summary(self, code: str, address: str = "local") -> RoomSummary:
        await self.guard.check_misses(address)
        await self.guard.hit(Limit.SUMMARY, address)
        try:
            return await self.read(code, Room.summary)
        except NotFound:
            await self.guard.miss(address)
            raise

    async def add_bot(self, actor: Credentials, key: str | None = None) -> BotAdded:
        bot_id = self.new_player_id()
        answer = await self._once(
            actor,
            key and f"bots:{key}",
            lambda r: r.add_bot(actor.player_id, bot_id, self.clock()),
            lambda r, last: {"player_id": bot_id, "name": r.players[bot_id].name, "last_event_id": last},
            {},
        )
        return BotAdded(player_id=answer["player_id"], name=answer["name"], last_event_id=answer["last_event_id"])

    async def remove_player(self, actor: Credentials, target_id: str, key: str | None = None) -> int:
        """Leave or kick; the removed player's sockets close on every process (see `_on_commit`), a kicked
        player is banned from the room by name and address, and an empty room is dropped."""
        answer = await self._once(
            actor,
            key and f"remove:{key}",
            lambda r: r.remove_player(actor.player_id, target_id, self.clock(), self.rng),
            lambda _r, last: {"last_event_id": last},
            {"player_id": target_id},
        )
        self._pollers.pop((actor.room_code, target_id), None)
        with contextlib.suppress(NotFound):
            if not await self.read(actor.room_code, lambda r: bool(r.humans())):
                await self.store.delete_room(actor.room_code)
        return int(answer["last_event_id"])

    async def change_settings(
        self, actor: Credentials, changes: dict[str, object], key: str | None = None
    ) -> SettingsChanged:
        languages = self.words.languages() if isinstance(self.words, PackLibrary) else None
        answer = await self._once(
            actor,
            key and f"settings:{key}",
            lambda r: r.update_settings(actor.player_id, changes, self.clock(), languages),
            lambda r, last: {"settings": r.settings.view(), "last_event_id": last},
            changes,
        )
        return SettingsChanged(settings=answer["settings"], last_event_id=answer["last_event_id"])

    async def set_custom_pack(self, actor: Credentials, text: str) -> SettingsChanged:
        """The table's own pairs, kept in the room's state (so every replica plays them), never elsewhere."""
        room = await self._mutate(actor.room_code, lambda r: r.set_custom_pack(actor.player_id, text, self.clock()))
        return SettingsChanged(settings=room.settings.view(), last_event_id=room.event_seq)

    def packs(self) -> list[dict[str, str | int]]:
        """The bundled packs a host can pick from (id, language, theme, name, size)."""
        if isinstance(self.words, PackLibrary):
            return self.words.catalogue()
        return [{"id": "bank", "language": "en", "theme": "mixed", "name": "Test bank", "pairs": len(self.words)}]

    # ---- play: each returns the last event id; the effects reach everyone (the caller too) as events ---
    # Every move takes an optional Idempotency-Key: the same key from the same player gets the first answer.

    async def start(self, actor: Credentials, key: str | None = None) -> int:
        return await self._act(
            actor, key and f"start:{key}", lambda r: r.start(actor.player_id, self.clock(), self.rng, self.words), {}
        )

    async def post_clue(self, actor: Credentials, text: str, key: str | None = None) -> int:
        return await self._act(
            actor,
            key and f"clue:{key}",
            lambda r: r.post_clue(actor.player_id, text, self.clock(), self.rng),
            {"text": text},
        )

    async def ready(self, actor: Credentials, key: str | None = None) -> int:
        return await self._act(
            actor, key and f"ready:{key}", lambda r: r.mark_ready(actor.player_id, self.clock(), self.rng), {}
        )

    async def vote(self, actor: Credentials, target_id: str, key: str | None = None) -> int:
        return await self._act(
            actor,
            key and f"vote:{key}",
            lambda r: r.vote(actor.player_id, target_id, self.clock(), self.rng),
            {"target_id": target_id},
        )

    async def guess(self, actor: Credentials, text: str, key: str | None = None) -> int:
        """Mr. White's one guess at the civilians' word, right after being voted out."""
        return await self._act(
            actor,
            key and f"guess:{key}",
            lambda r: r.guess(actor.player_id, text, self.clock(), self.rng),
            {"text": text},
        )

    async def advance(
        self, actor: Credentials, key: str | None = None, phase: Phase | None = None, round_: int | None = None
    ) -> int:
        return await self._act(
            actor,
            key and f"advance:{key}",
            lambda r: r.advance(actor.player_id, self.clock(), self.rng, phase=phase, round_=round_),
            {"phase": phase, "round": round_},
        )

    async def _act(
        self, actor: Credentials, key: str | None, command: Callable[[Room], list[Event]], body: dict[str, Any]
    ) -> int:
        answer = await self._once(actor, key, command, lambda _r, last: {"last_event_id": last}, body)
        return int(answer["last_event_id"])

    async def _once(
        self,
        actor: Credentials,
        key: str | None,
        fn: Callable[[Room], list[Event]],
        answer: Callable[[Room, int], dict[str, Any]],
        body: dict[str, Any],
    ) -> dict[str, Any]:
        """Run one move at most once per Idempotency-Key: a retry with a used key gets the first answer.

        Callers prefix the key with the move's kind, so a key reused for another kind of move is a new move
        (found by the fuzzer: a bots answer handed back for a settings change). The same key with another
        `body` (the move's parsed request) is refused with 422 `idempotency_key_reused`, as Stripe does: handing
        the first answer back would tell the client a move it never made went through.

        The store keeps the first answer beside the room for the room's whole life and writes it with the move's
        own commit (`Store.mutate_once`), so a retry on any process finds it; `answer(room, last_event_id)`
        builds what the caller returns."""
        if key is None:
            room = await self._mutate(actor.room_code, fn)
            return answer(room, room.event_seq)
        once = Once(f"{actor.player_id}:{key}", answer, fingerprint(body))
        done = await self.store.mutate_once(normalize_code(actor.room_code), fn, self.clock(), once)
        if done.replayed:
            if done.fingerprint is not None and done.fingerprint != once.fingerprint:
                raise Invalid(
                    "this Idempotency-Key was already used for a different move; send a new key for a new move",
                    "idempotency_key_reused",
                )
            self.metrics.idempotent_replays.inc()
            return done.answer
        self._schedule(done.room)
        self._count(done.events)
        return done.answer

    async def _mutate(self, code: str, fn: Callable[[Room], list[Event]]) -> Room:
        room, stored = await self.store.mutate(normalize_code(code), fn, self.clock())
        self._schedule(room)
        self._count(stored)
        return room

    async def read(self, code: str, fn: Callable[[Room], T]) -> T:
        return await self.store.read(normalize_code(code), fn)

    # ---- what a client sees: snapshots, polls and resumes ----------------------------------------------

    async def snapshot(self, creds: Credentials, transport: Transport) -> Snapshot:
        snap = await self.read(creds.room_code, lambda r: r.snapshot(creds.player_id))
        snap["transport"] = transport
        snap["server_time"] = self.clock()
        return snap

    async def state(self, creds: Credentials) -> Snapshot:
        """The legacy polling transport: a full snapshot per request."""
        self.metrics.polling_requests.inc()
        self._count_poll(Transport.POLLING)
        await self.seen_polling(creds, Transport.POLLING)
        return await self.snapshot(creds, self.transport_for(creds.player_id))

    async def poll_events(self, creds: Credentials, after: int, wait: float, epoch: str | None = None) -> Resume:
        """GET /events: the events after `after`, held up to `wait` seconds for one to arrive (long-polling);
        at most MAX_LONGPOLLS_PER_TOKEN held at once per player (a real client holds one)."""
        transport = Transport.LONGPOLL if wait > 0 else Transport.POLLING
        self._count_poll(transport)
        await self.seen_polling(creds, transport)
        async with self._held_longpoll(creds, wait > 0):
            resume = await self.resume(
                creds, after, transport=None, wait=min(wait, self.settings.longpoll_max_wait_seconds), epoch=epoch
            )
        outcome = "snapshot" if not resume.recovered else "events" if resume.events else "timeout"
        self.metrics.longpoll_requests.labels(outcome).inc()
        return resume

    @contextlib.asynccontextmanager
    async def _held_longpoll(self, creds: Credentials, held: bool) -> AsyncIterator[None]:
        key = (creds.room_code, creds.player_id)
        if held and self._longpolls.get(key, 0) >= self.settings.max_longpolls_per_token:
            self.metrics.limit_refusals.labels("longpoll_per_token").inc()
            raise RateLimited("too many long-polls held for this player at once", "too_many_longpolls")
        if held:
            self._longpolls[key] = self._longpolls.get(key, 0) + 1
        try:
            yield
        finally:
            if held:
                left = self._longpolls[key] - 1
                if left:
                    self._longpolls[key] = left
                else:
                    del self._longpolls[key]

    async def resume(
        self,
        creds: Credentials,
        after: int | None,
        *,
        transport: Transport | None,
        wait: float | None = None,
        epoch: str | None = None,
    ) -> Resume:
        """The events after `after` when the log still reaches back that far, otherwise a snapshot.

        `after` None (a fresh client) always gets a snapshot. A poll (`wait` in seconds, 0 included) is held
        until an event arrives and resyncs a client ahead of the log; a socket (`wait` None) takes what the
        log has, live events follow. `transport` is what the snapshot says the player uses (None: the flag's
        choice for them).

        A client whose id is ahead of the log, or whose `epoch` names another history of the room (the store
        lost or rewrote it), gets a snapshot too: its ids may be handed out again, so no replay from them can
        be trusted."""
        wanted = self.transport_for(creds.player_id)
        if after is not None:
            if wait is None:
                piece = await self.events_after(creds, after, epoch)
            else:
                piece = await self.wait_events(creds, after, wait, epoch)
            if piece.complete:
                return Resume(piece.events, None, piece.last_event_id, wanted, piece.epoch)
        snap = await self.snapshot(creds, transport or wanted)
        return Resume([], snap, snap["last_event_id"], wanted, snap["epoch"])

    async def events_after(self, creds: Credentials, after: int, epoch: str | None = None) -> LogSlice:
        """Events after `after` that this player may see; incomplete (resync from a snapshot) when the log no
        longer reaches back, when `after` is ahead of the log, or when `epoch` names another history."""
        # clamped here too, so no caller can hand the store an id it cannot parse (a Redis stream id is 64-bit)
        piece = await self.store.events_after(creds.room_code, min(max(after, 0), MAX_EVENT_ID))
        if epoch is not None and epoch != piece.epoch:
            return LogSlice([], False, piece.last_event_id, piece.epoch)
        visible = [e for e in piece.events if e.visible_to(creds.player_id)]
        return LogSlice(visible, piece.complete, piece.last_event_id, piece.epoch)

    async def wait_events(self, creds: Credentials, after: int, wait: float, epoch: str | None = None) -> LogSlice:
        """Return as soon as events after `after` exist, or when `wait` seconds have passed."""
        # a client ahead of the log or from another epoch gets `complete` False here: it resyncs at once
        piece = await self.events_after(creds, after, epoch)
        if wait <= 0 or piece.events or not piece.complete:
            return piece
        # nothing yet: receive the room's commits while we wait (the loop reads again once subscribed)
        await self.watch(creds.room_code)
        try:
            return await self._wait_events(creds, after, time.monotonic() + wait, epoch)
        finally:
            self.unwatch(creds.room_code)

    async def _wait_events(self, creds: Credentials, after: int, deadline: float, epoch: str | None) -> LogSlice:
        while True:
            changed = self.hub.room_changed(creds.room_code)
            piece = await self.events_after(creds, after, epoch)
            if piece.events or not piece.complete:
                return piece
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return piece
            try:
                await asyncio.wait_for(changed.wait(), timeout=remaining)
            except TimeoutError:
                return await self.events_after(creds, after, epoch)

    async def watch(self, code: str) -> None:
        """A socket or long-poll of this room is here now: its commits from other processes must reach us."""
        await self.store.watch(code)

    def unwatch(self, code: str) -> None:
        self.store.unwatch(code)

    def new_player_id(self) -> str:
        return "p_" + secrets.token_hex(8)

    def transport_for(self, player_id: str) -> Transport:
        """websocket or polling for this player: the kill switch wins, then the rollout flag's cohort."""
        if not self.settings.websocket_enabled:
            return Transport.POLLING
        if self.flag is None:
            return Transport.WEBSOCKET
        return self.flag.transport_for(player_id)

    def _count_poll(self, transport: Transport) -> None:
        self.metrics.transport_messages.labels(transport, "in").inc()
        self.metrics.transport_messages.labels(transport, "out").inc()

    # ---- presence --------------------------------------------------------------------------------------

    async def seen_polling(self, creds: Credentials, transport: Transport) -> None:
        """A poll or long-poll request keeps its player shown online.

        Not while the player's socket is open here: then the request is the page fetching a snapshot, and counting
        it as polling would keep a player who closes the tab online (the socket's close would be ignored as
        "still polling", and the poll's timeout would not match the socket's presence session), so no stand-in
        would ever take the seat.
        """
        if self.hub.is_connected(creds.room_code, creds.player_id):
            return
        self._pollers[(creds.room_code, creds.player_id)] = (time.monotonic(), transport)
        await self._set_presence(creds.room_code, creds.player_id, True, f"{transport}:{creds.player_id}", weak=True)

    async def connected(self, creds: Credentials, session: str) -> None:
        await self._set_presence(creds.room_code, creds.player_id, True, session)

    async def disconnected(self, creds: Credentials, session: str) -> None:
        """The socket closed: offline now, or, while the player still polls, presence passes to their polls.

        Handing it over matters: the poll's expiry takes the player offline only with the session that holds
        their presence, so a player who polled shortly before closing the tab would otherwise stay online for
        good (and no stand-in would ever take the seat).
        """
        if self.hub.is_connected(creds.room_code, creds.player_id):
            return
        key = (creds.room_code, creds.player_id)
        if self._polling_recently(*key):
            transport = self._pollers[key][1]
            await self._set_presence(creds.room_code, creds.player_id, True, f"{transport}:{creds.player_id}")
            return
        await self._set_presence(creds.room_code, creds.player_id, False, session)

    def _polling_recently(self, code: str, player_id: str) -> bool:
        seen = self._pollers.get((code, player_id))
        return seen is not None and time.monotonic() - seen[0] < self.settings.presence_timeout_seconds

    async def _set_presence(
        self, code: str, player_id: str, online: bool, session: str | None = None, *, weak: bool = False
    ) -> None:
        """`weak` (a poll): bring an offline player online, never take them over from a live socket's session."""
        with contextlib.suppress(NotFound):
            await self._mutate(code, lambda r: r.set_presence(player_id, online, self.clock(), session, weak=weak))

    # ---- what other processes did: kicks, deletes, lost history ----------------------------------------

    def _on_commit(self, code: str, events: list[StoredEvent]) -> None:
        """Every process sees every commit: a removed player's sockets close here too, after the event."""
        for event in events:
            if event.type == EventType.PLAYER_LEFT:
                self.close_room_sockets(
                    code, CloseCode.AUTH, "you are no longer in this room", "auth_failure", event.data["player_id"]
                )

    def _on_room_reset(self, code: str) -> None:
        """The store says this room's history changed under us (deleted elsewhere, or rewritten)."""
        if self.hub.rooms.get(code):
            task = asyncio.get_running_loop().create_task(self._resync_room(code), name=f"parlor-resync-{code}")
            self._resyncs.add(task)
            task.add_done_callback(self._resyncs.discard)
        self.hub.room_changed(code).set()  # long-polls re-read and find the room gone or the epoch changed

    async def _resync_room(self, code: str) -> None:
        """Close a reset room's sockets: 4404 when it is gone, else 1012 so clients resume (and resync)."""
        try:
            await self.store.read(code, lambda r: r.epoch)
        except NotFound:
            self.close_room_sockets(code, CloseCode.UNKNOWN_ROOM, "this room no longer exists", "room_gone")
            return
        except Unavailable:
            pass  # cannot tell yet: a resume finds out (a gone room then answers 4404, a live one resyncs)
        self.close_room_sockets(code, CloseCode.RESTART, "room history reset: reconnect to resync", "server_restart")

    def close_room_sockets(
        self, code: str, close: CloseCode, reason: str, why: str, player_id: str | None = None
    ) -> int:
        closed = 0
        for conn in self.hub.connections(code):
            if player_id is None or conn.player_id == player_id:
                conn.request_close(int(close), reason, why)
                closed += 1
        return closed

    # ---- timers and upkeep -----------------------------------------------------------------------------

    def _count(self, events: list[StoredEvent]) -> None:
        """Count commits on the process that made them, so sums across processes are right."""
        self.metrics.events_committed.inc(len(events))
        for event in events:
            if event.type == EventType.GAME_STARTED:
                self.metrics.games_started.inc()
            elif event.type == EventType.GAME_OVER:
                self.metrics.games_finished.labels(event.data["winner"]).inc()

    def _schedule(self, room: Room) -> None:
        """Wake the timer loop early when this commit set a wake-up sooner than the one it sleeps towards."""
        when = room.next_wakeup()
        if when is not None and (self._next_timer is None or when < self._next_timer):
            self._wake.set()

    async def tick(self, code: str) -> None:
        """Fire whatever is due in one room now (deadlines, bot moves)."""
        with contextlib.suppress(NotFound):
            await self._mutate(code, lambda r: r.tick(self.clock(), self.rng))

    async def _timer_loop(self) -> None:
        """Fire due rooms; the store hands each due room to one process only, so a deadline fires once."""
        while True:
            self._wake.clear()
            try:
                for code in await self.store.claim_due(self.clock()):
                    try:
                        await self.tick(code)
                    except Exception:
                        log.exception("tick failed for room %s", code, extra={"room": code})
                self._next_timer = await self.store.next_wakeup()
                if self._timer_failing:
                    log.info("timer loop: store reachable again")
                self._timer_failing = False
            except Exception as exc:  # a store outage must not kill the timer loop; it retries shortly
                if not self._timer_failing:
                    log.warning("timer loop: store unavailable (%r); retrying every 0.5 s", exc)
                self._timer_failing = True
                self._next_timer = None
            delay = 0.5 if self._next_timer is None else min(0.5, max(0.0, self._next_timer - self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _maintenance_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.upkeep()
            except Unavailable as exc:  # the store is away (a restart, a timeout): the next round tries again
                log.warning("upkeep skipped: %s (%r)", exc.message, exc.__cause__)
            except Exception:
                log.exception("upkeep failed")

    async def upkeep(self) -> None:
        """Heartbeat and presence timeouts, idle-room expiry, gauges."""
        mono = time.monotonic()
        silent_limit = self.settings.heartbeat_timeout_seconds
        if silent_limit > 0:
            await self.hub.close_all(
                CloseCode.GOING_AWAY,
                "heartbeat timeout: no frame received",
                where=lambda conn: mono - conn.last_seen > silent_limit,
                disconnect_reason="heartbeat_timeout",
            )
        for (code, player_id), (seen, transport) in list(self._pollers.items()):
            if mono - seen >= self.settings.presence_timeout_seconds:
                del self._pollers[(code, player_id)]
                if not self.hub.is_connected(code, player_id):
                    await self._set_presence(code, player_id, False, f"{transport}:{player_id}")
        now = self.clock()
        # The activity index names the candidates, so a room that is not idle long enough costs nothing here. A
        # lobby nobody is in (created and abandoned, or made by a flood) goes in minutes, a game in an hour.
        # Rooms that vanished under live sockets (Redis back empty) are the store's resets, not this sweep's.
        lobby_limit = min(self.settings.lobby_idle_seconds, self.settings.room_idle_seconds)
        for code in await self.store.idle_rooms(now - lobby_limit):
            if self.hub.rooms.get(code):
                continue
            try:
                idle, deserted_lobby = await self.store.read(
                    code,
                    lambda r: (now - r.last_activity, r.phase == "lobby" and not any(p.online for p in r.humans())),
                )
            except NotFound:
                continue
            if idle >= (lobby_limit if deserted_lobby else self.settings.room_idle_seconds):
                log.info(
                    "room %s expired after %.0f s idle", code, idle, extra={"room": code, "idle_s": round(idle, 1)}
                )
                await self.store.delete_room(code)
        self.refresh_gauges()
        await self.refresh_room_gauge()

    def refresh_gauges(self) -> None:
        self.hub.flush_metrics()
        counts = dict.fromkeys(TRANSPORTS, 0)
        counts[Transport.WEBSOCKET] = self.hub.connection_count()
        mono = time.monotonic()
        for (code, player_id), (seen, transport) in self._pollers.items():
            recent = mono - seen < self.settings.presence_timeout_seconds
            if recent and not self.hub.is_connected(code, player_id):
                counts[transport] = counts.get(transport, 0) + 1
        for transport, n in counts.items():
            self.metrics.players_connected.labels(transport).set(n)

    async def refresh_room_gauge(self) -> None:
        self.metrics.rooms_active.set(await self.store.count_rooms())
