"""The door: one method per command, plus `resume` and `state`; routes call these and nothing below them.

The door holds the clock, the chance and the word bank the engine needs, and runs each command through
`Commits`. Its collaborators each do one job: `Catchup` (what a returning or polling client gets), `Presence`
(who is online), `RoomSockets` (closing sockets on commits and resets), `Timers` and `Upkeep` (deadlines, and the
once-a-second sweep and gauges). Per process: the draining mark and the rollout flag's handle. The per-address
limits and room quota (`ClientLimits`) live where the rooms do: in this process's memory with `memory://`, in
Redis otherwise, shared by every replica (`backend.core.limits`).
"""

from __future__ import annotations

import contextlib
import gc
import hmac
import random
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from backend.core.config import Settings
from backend.core.errors import Conflict, Forbidden, NotFound, Unauthorized, Unavailable
from backend.core.limits import ClientLimits, Limit
from backend.game.engine import Room, RoomLimits
from backend.game.events import Event
from backend.game.vocabulary import Language, Phase, RoomSummary, SettingsView, Snapshot
from backend.game.words import PackLibrary, WordBank
from backend.metrics import Metrics
from backend.realtime.hub import Hub
from backend.realtime.protocol import ErrorCode, Transport
from backend.service.catchup import Catchup, Resume
from backend.service.commits import Commits
from backend.service.presence import Presence
from backend.service.seats import Credentials, hash_token, new_epoch, new_player_id, new_room_code, normalize_code
from backend.service.sockets import RoomSockets
from backend.service.timers import Timers
from backend.service.upkeep import Upkeep
from backend.store import Store

if TYPE_CHECKING:
    from backend.flags import TransportFlag

T = TypeVar("T")


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
        self.flag: TransportFlag | None = None  # the rollout flag, attached by `backend.wiring` when it runs
        self.draining = False
        store.subscribe(hub.publish)  # first: a commit's frames go out before its sockets are closed
        self.timers = Timers(store, clock)
        self.commits = Commits(store, metrics, clock, self.timers)
        self.presence = Presence(settings, hub, self.commits, clock)
        self.sockets = RoomSockets(store, hub)
        self.catchup = Catchup(settings, store, hub, metrics, clock, self.commits, self.presence, self.transport_for)
        self.upkeep = Upkeep(settings, store, hub, metrics, clock, self.presence, self.timers)

    # ---- lifecycle -------------------------------------------------------------------------------------

    async def open(self) -> None:
        await self.store.start()
        # Everything built so far (modules, app, settings) lives as long as the process: move it out of the
        # collector's reach, so full collections scan only what games allocate and pause the loop less.
        gc.collect()
        gc.freeze()
        self.upkeep.start(self.tick)

    async def close(self) -> None:
        await self.upkeep.stop()
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
        player_id = new_player_id()
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
                self.commits.count(await self.store.create_room(room, events, now))
            except Conflict as exc:
                if exc.code == ErrorCode.ROOM_EXISTS:
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
        player_id = new_player_id()
        address_hash = hash_token(address)
        try:
            await self.commits.mutate(
                code, lambda r: r.join(player_id, name, hash_token(token), self.clock(), address_hash=address_hash)
            )
        except NotFound:
            await self.guard.miss(address)
            raise
        except Forbidden as exc:
            if exc.code == ErrorCode.BANNED:
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
        bot_id = new_player_id()
        answer = await self.commits.once(
            actor,
            key and f"bots:{key}",
            lambda r: r.add_bot(actor.player_id, bot_id, self.clock()),
            lambda r, last: {"player_id": bot_id, "name": r.players[bot_id].name, "last_event_id": last},
            {},
        )
        return BotAdded(player_id=answer["player_id"], name=answer["name"], last_event_id=answer["last_event_id"])

    async def remove_player(self, actor: Credentials, target_id: str, key: str | None = None) -> int:
        """Leave or kick; the removed player's sockets close on every process (see `RoomSockets`), a kicked
        player is banned from the room by name and address, and an empty room is dropped."""
        answer = await self.commits.once(
            actor,
            key and f"remove:{key}",
            lambda r: r.remove_player(actor.player_id, target_id, self.clock(), self.rng),
            lambda _r, last: {"last_event_id": last},
            {"player_id": target_id},
        )
        self.presence.forget(actor.room_code, target_id)
        with contextlib.suppress(NotFound):
            if not await self.read(actor.room_code, lambda r: bool(r.humans())):
                await self.store.delete_room(actor.room_code)
        return int(answer["last_event_id"])

    async def change_settings(
        self, actor: Credentials, changes: dict[str, object], key: str | None = None
    ) -> SettingsChanged:
        languages = self.words.languages() if isinstance(self.words, PackLibrary) else None
        answer = await self.commits.once(
            actor,
            key and f"settings:{key}",
            lambda r: r.update_settings(actor.player_id, changes, self.clock(), languages),
            lambda r, last: {"settings": r.settings.view(), "last_event_id": last},
            changes,
        )
        return SettingsChanged(settings=answer["settings"], last_event_id=answer["last_event_id"])

    async def set_custom_pack(self, actor: Credentials, text: str) -> SettingsChanged:
        """The table's own pairs, kept in the room's state (so every replica plays them), never elsewhere."""
        room = await self.commits.mutate(
            actor.room_code, lambda r: r.set_custom_pack(actor.player_id, text, self.clock())
        )
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

    async def tick(self, code: str) -> None:
        """Fire whatever is due in one room now (deadlines, bot moves); the timer loop calls it."""
        with contextlib.suppress(NotFound):
            await self.commits.mutate(code, lambda r: r.tick(self.clock(), self.rng))

    async def _act(
        self, actor: Credentials, key: str | None, command: Callable[[Room], list[Event]], body: dict[str, Any]
    ) -> int:
        answer = await self.commits.once(actor, key, command, lambda _r, last: {"last_event_id": last}, body)
        return int(answer["last_event_id"])

    # ---- what a client sees: snapshots, polls and resumes (see `Catchup`) ------------------------------

    async def read(self, code: str, fn: Callable[[Room], T]) -> T:
        return await self.commits.read(code, fn)

    async def state(self, creds: Credentials) -> Snapshot:
        """The legacy polling transport: a full snapshot per request."""
        return await self.catchup.state(creds)

    async def poll_events(self, creds: Credentials, after: int, wait: float, epoch: str | None = None) -> Resume:
        """GET /events: the events after `after`, held up to `wait` seconds (long-polling)."""
        return await self.catchup.poll_events(creds, after, wait, epoch)

    async def resume(
        self, creds: Credentials, after: int | None, *, transport: Transport | None, epoch: str | None = None
    ) -> Resume:
        """A socket's resume: the events after `after` when the log still has them, otherwise a snapshot."""
        return await self.catchup.resume(creds, after, transport=transport, epoch=epoch)

    async def watch(self, code: str) -> None:
        """A socket of this room is here now: its commits from other processes must reach us."""
        await self.store.watch(code)

    def unwatch(self, code: str) -> None:
        self.store.unwatch(code)

    def transport_for(self, player_id: str) -> Transport:
        """websocket or polling for this player: the kill switch wins, then the rollout flag's cohort."""
        if not self.settings.websocket_enabled:
            return Transport.POLLING
        if self.flag is None:
            return Transport.WEBSOCKET
        return self.flag.transport_for(player_id)
