import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubmitBidRequest(_message.Message):
    __slots__ = ("request_id", "user_id", "timestamp", "device_type", "page_url", "site", "device", "tmax")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PAGE_URL_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    TMAX_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    user_id: str
    timestamp: str
    device_type: str
    page_url: str
    site: Site
    device: Device
    tmax: int
    def __init__(self, request_id: _Optional[str] = ..., user_id: _Optional[str] = ..., timestamp: _Optional[str] = ..., device_type: _Optional[str] = ..., page_url: _Optional[str] = ..., site: _Optional[_Union[Site, _Mapping]] = ..., device: _Optional[_Union[Device, _Mapping]] = ..., tmax: _Optional[int] = ...) -> None: ...

class Site(_message.Message):
    __slots__ = ("domain", "page")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    domain: str
    page: str
    def __init__(self, domain: _Optional[str] = ..., page: _Optional[str] = ...) -> None: ...

class Device(_message.Message):
    __slots__ = ("ip", "user_agent", "type")
    IP_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ip: str
    user_agent: str
    type: str
    def __init__(self, ip: _Optional[str] = ..., user_agent: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class BidResponse(_message.Message):
    __slots__ = ("bid_request_id", "user_id", "bid_price", "currency", "timestamp", "enriched", "winning_interest", "interest_score", "enrichment_reason", "site_domain", "device_type", "page_url", "user_interests", "interest_scores")
    class InterestScoresEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    BID_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BID_PRICE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ENRICHED_FIELD_NUMBER: _ClassVar[int]
    WINNING_INTEREST_FIELD_NUMBER: _ClassVar[int]
    INTEREST_SCORE_FIELD_NUMBER: _ClassVar[int]
    ENRICHMENT_REASON_FIELD_NUMBER: _ClassVar[int]
    SITE_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PAGE_URL_FIELD_NUMBER: _ClassVar[int]
    USER_INTERESTS_FIELD_NUMBER: _ClassVar[int]
    INTEREST_SCORES_FIELD_NUMBER: _ClassVar[int]
    bid_request_id: str
    user_id: str
    bid_price: float
    currency: str
    timestamp: _timestamp_pb2.Timestamp
    enriched: bool
    winning_interest: str
    interest_score: float
    enrichment_reason: str
    site_domain: str
    device_type: str
    page_url: str
    user_interests: _containers.RepeatedScalarFieldContainer[str]
    interest_scores: _containers.ScalarMap[str, float]
    def __init__(self, bid_request_id: _Optional[str] = ..., user_id: _Optional[str] = ..., bid_price: _Optional[float] = ..., currency: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., enriched: bool = ..., winning_interest: _Optional[str] = ..., interest_score: _Optional[float] = ..., enrichment_reason: _Optional[str] = ..., site_domain: _Optional[str] = ..., device_type: _Optional[str] = ..., page_url: _Optional[str] = ..., user_interests: _Optional[_Iterable[str]] = ..., interest_scores: _Optional[_Mapping[str, float]] = ...) -> None: ...
