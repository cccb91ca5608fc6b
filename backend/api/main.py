"""All routers, collected in one place."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.routes import admin, health, rooms, ws

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(rooms.router)
api_router.include_router(rooms.packs_router)
api_router.include_router(admin.router)

# mounted on the app itself, ahead of the routers (see `ws.route`)
socket_routes = [ws.route]
