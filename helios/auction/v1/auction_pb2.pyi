import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuctionOutcome(_message.Message):
    __slots__ = ("bid_request_id", "user_id", "bid_price", "currency", "timestamp", "enriched", "winning_interest", "interest_score", "enrichment_reason", "site_domain", "device_type", "page_url", "user_interests", "interest_scores", "win_status", "win_price", "auction_timestamp")
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
    WIN_STATUS_FIELD_NUMBER: _ClassVar[int]
    WIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    AUCTION_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
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
    win_status: bool
    win_price: float
    auction_timestamp: _timestamp_pb2.Timestamp
    def __init__(self, bid_request_id: _Optional[str] = ..., user_id: _Optional[str] = ..., bid_price: _Optional[float] = ..., currency: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., enriched: bool = ..., winning_interest: _Optional[str] = ..., interest_score: _Optional[float] = ..., enrichment_reason: _Optional[str] = ..., site_domain: _Optional[str] = ..., device_type: _Optional[str] = ..., page_url: _Optional[str] = ..., user_interests: _Optional[_Iterable[str]] = ..., interest_scores: _Optional[_Mapping[str, float]] = ..., win_status: bool = ..., win_price: _Optional[float] = ..., auction_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
