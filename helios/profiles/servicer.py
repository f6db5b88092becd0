"""The gRPC ProfileService: validate, ask the store, shape the reply.

Errors are raised (InvalidArgument from validation, NotFound for a missing profile,
Unavailable from the store) and mapped to status codes by the platform interceptor.
WatchProfiles streams the :class:`~helios.profiles.watch.ChangeFeed`'s changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from helios.platform.errors import NotFound, Unavailable
from helios.profiles import validation
from helios.profiles.model import Profile
from helios.profiles.store import ProfileStore
from helios.profiles.v1 import profiles_pb2 as pb
from helios.profiles.v1.profiles_pb2_grpc import ProfileServiceServicer
from helios.profiles.watch import ChangeFeed, Missed

Context = Any  # grpc.aio.ServicerContext; unused by every method


class ProfileServicer(ProfileServiceServicer):
    def __init__(self, store: ProfileStore, feed: ChangeFeed) -> None:
        self._store = store
        self._feed = feed

    async def GetProfile(self, request: pb.GetProfileRequest,
                         context: Context) -> pb.GetProfileResponse:
        user_id = validation.check_user_id(request.user_id)
        profile = await self._store.get(user_id)
        if profile is None:
            raise NotFound(_no_profile(user_id))
        return pb.GetProfileResponse(profile=_message(profile))

    async def BatchGetProfiles(self, request: pb.BatchGetProfilesRequest,
                               context: Context) -> pb.BatchGetProfilesResponse:
        user_ids = validation.check_user_ids(request.user_ids)
        found = await self._store.get_many(user_ids)
        return pb.BatchGetProfilesResponse(
            profiles=[_message(profile) for profile in found if profile is not None],
            missing_user_ids=[user_id for user_id, profile in zip(user_ids, found, strict=True)
                              if profile is None],
        )

    async def UpsertProfile(self, request: pb.UpsertProfileRequest,
                            context: Context) -> pb.UpsertProfileResponse:
        profile = validation.check_profile(request.profile.user_id, request.profile.interests)
        await self._store.put(profile)
        return pb.UpsertProfileResponse(profile=_message(profile))

    async def DeleteProfile(self, request: pb.DeleteProfileRequest,
                            context: Context) -> pb.DeleteProfileResponse:
        user_id = validation.check_user_id(request.user_id)
        if not await self._store.delete(user_id):
            raise NotFound(_no_profile(user_id))
        return pb.DeleteProfileResponse()

    async def WatchProfiles(self, request: pb.WatchProfilesRequest,
                            context: Context) -> AsyncIterator[pb.WatchProfilesResponse]:
        # While Redis is out of reach this waits; the watcher knows by the missing first message.
        try:
            subscription = await self._feed.subscribe()
        except Missed as exc:
            raise Unavailable(f"profile changes cannot be watched: {exc}") from exc
        try:
            yield pb.WatchProfilesResponse()
            async for change in subscription:
                yield pb.WatchProfilesResponse(user_id=change.user_id, deleted=change.deleted)
        except Missed as exc:
            raise Unavailable(f"profile changes were missed: {exc}") from exc
        finally:
            self._feed.unsubscribe(subscription)


def _message(profile: Profile) -> pb.UserProfile:
    return pb.UserProfile(user_id=profile.user_id, interests=profile.interests)


def _no_profile(user_id: str) -> str:
    return f"user_id: no profile for user {user_id!r}"
