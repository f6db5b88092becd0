import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Outcome(_message.Message):
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

class ListOutcomesRequest(_message.Message):
    __slots__ = ("user_id", "site_domain", "win_status", "enriched", "min_price", "max_price", "to", "page", "page_size", "ordering", "page_token")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    WIN_STATUS_FIELD_NUMBER: _ClassVar[int]
    ENRICHED_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    ORDERING_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    site_domain: str
    win_status: str
    enriched: str
    min_price: str
    max_price: str
    to: str
    page: str
    page_size: str
    ordering: str
    page_token: str
    def __init__(self, user_id: _Optional[str] = ..., site_domain: _Optional[str] = ..., win_status: _Optional[str] = ..., enriched: _Optional[str] = ..., min_price: _Optional[str] = ..., max_price: _Optional[str] = ..., to: _Optional[str] = ..., page: _Optional[str] = ..., page_size: _Optional[str] = ..., ordering: _Optional[str] = ..., page_token: _Optional[str] = ..., **kwargs) -> None: ...

class ListOutcomesResponse(_message.Message):
    __slots__ = ("count", "page", "page_size", "total_pages", "results", "next_page_token")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAGES_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    count: int
    page: int
    page_size: int
    total_pages: int
    results: _containers.RepeatedCompositeFieldContainer[Outcome]
    next_page_token: str
    def __init__(self, count: _Optional[int] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ..., total_pages: _Optional[int] = ..., results: _Optional[_Iterable[_Union[Outcome, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ("user_id", "site_domain", "win_status", "enriched", "min_price", "max_price", "to")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    WIN_STATUS_FIELD_NUMBER: _ClassVar[int]
    ENRICHED_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    site_domain: str
    win_status: str
    enriched: str
    min_price: str
    max_price: str
    to: str
    def __init__(self, user_id: _Optional[str] = ..., site_domain: _Optional[str] = ..., win_status: _Optional[str] = ..., enriched: _Optional[str] = ..., min_price: _Optional[str] = ..., max_price: _Optional[str] = ..., to: _Optional[str] = ..., **kwargs) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("total", "wins", "losses", "win_rate", "revenue", "average_win_price", "average_bid_price", "enriched_count")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    REVENUE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_WIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_BID_PRICE_FIELD_NUMBER: _ClassVar[int]
    ENRICHED_COUNT_FIELD_NUMBER: _ClassVar[int]
    total: int
    wins: int
    losses: int
    win_rate: float
    revenue: float
    average_win_price: float
    average_bid_price: float
    enriched_count: int
    def __init__(self, total: _Optional[int] = ..., wins: _Optional[int] = ..., losses: _Optional[int] = ..., win_rate: _Optional[float] = ..., revenue: _Optional[float] = ..., average_win_price: _Optional[float] = ..., average_bid_price: _Optional[float] = ..., enriched_count: _Optional[int] = ...) -> None: ...

class ListWinnersRequest(_message.Message):
    __slots__ = ("user_id", "site_domain", "win_status", "enriched", "min_price", "max_price", "to", "page", "page_size", "ordering", "page_token")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    WIN_STATUS_FIELD_NUMBER: _ClassVar[int]
    ENRICHED_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    ORDERING_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    site_domain: str
    win_status: str
    enriched: str
    min_price: str
    max_price: str
    to: str
    page: str
    page_size: str
    ordering: str
    page_token: str
    def __init__(self, user_id: _Optional[str] = ..., site_domain: _Optional[str] = ..., win_status: _Optional[str] = ..., enriched: _Optional[str] = ..., min_price: _Optional[str] = ..., max_price: _Optional[str] = ..., to: _Optional[str] = ..., page: _Optional[str] = ..., page_size: _Optional[str] = ..., ordering: _Optional[str] = ..., page_token: _Optional[str] = ..., **kwargs) -> None: ...

class ListWinnersResponse(_message.Message):
    __slots__ = ("count", "page", "page_size", "total_pages", "results", "next_page_token")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAGES_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    count: int
    page: int
    page_size: int
    total_pages: int
    results: _containers.RepeatedCompositeFieldContainer[Outcome]
    next_page_token: str
    def __init__(self, count: _Optional[int] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ..., total_pages: _Optional[int] = ..., results: _Optional[_Iterable[_Union[Outcome, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDailyStatsRequest(_message.Message):
    __slots__ = ("user_id", "site_domain", "win_status", "enriched", "min_price", "max_price", "to")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    WIN_STATUS_FIELD_NUMBER: _ClassVar[int]
    ENRICHED_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    site_domain: str
    win_status: str
    enriched: str
    min_price: str
    max_price: str
    to: str
    def __init__(self, user_id: _Optional[str] = ..., site_domain: _Optional[str] = ..., win_status: _Optional[str] = ..., enriched: _Optional[str] = ..., min_price: _Optional[str] = ..., max_price: _Optional[str] = ..., to: _Optional[str] = ..., **kwargs) -> None: ...

class DailyStats(_message.Message):
    __slots__ = ("date", "total", "wins", "revenue", "average_win_price")
    DATE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    REVENUE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_WIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    date: str
    total: int
    wins: int
    revenue: float
    average_win_price: float
    def __init__(self, date: _Optional[str] = ..., total: _Optional[int] = ..., wins: _Optional[int] = ..., revenue: _Optional[float] = ..., average_win_price: _Optional[float] = ...) -> None: ...

class GetDailyStatsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[DailyStats]
    def __init__(self, results: _Optional[_Iterable[_Union[DailyStats, _Mapping]]] = ...) -> None: ...

class GetOutcomeRequest(_message.Message):
    __slots__ = ("bid_request_id",)
    BID_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    bid_request_id: str
    def __init__(self, bid_request_id: _Optional[str] = ...) -> None: ...
