"""A synthetic online shop: seeded, deterministic data for the five raw tables.

Every customer belongs to a hidden type (vip, bargain hunter, serial returner, ...).
The type drives when the customer buys and stops buying, what and how much they buy,
what they send back, how they react to campaign offers and when they call customer
service. Every product belongs to a style (a brand or look), and each customer keeps to two
favourite styles for a share of their purchases, so what someone bought hints at what else they
will buy. The hidden types and the true probabilities behind the draws are written to
``ground_truth/`` so that segments, return propensities and campaign uplift found by
the pipeline can be checked against what really happened.

Customers are simulated in independent blocks, so memory stays bounded however large
the shop; DuckDB then sorts each table by its event timestamp into a single file.
"""

from __future__ import annotations

import datetime
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.domain import contract


@dataclass(frozen=True)
class ShopSpec:
    """Size, period and random seed of the simulated shop."""

    n_customers: int = 60_000
    start: datetime.date = date(2024, 1, 1)
    days: int = 731
    seed: int = 42
    n_products: int = 2_000
    n_styles: int = 40
    style_loyalty: float = 0.5
    """Chance that an order line is picked from the customer's two favourite styles only."""
    block_size: int = 20_000
    campaign_every_days: int = 61
    campaign_reach: float = 0.4
    duckdb_memory_limit: str = "4GB"
    write_line_truth: bool = True
    types: tuple[CustomerType, ...] | None = None
    """The customer types to draw from; None: the default shop's ``TYPES``."""

    @property
    def customer_types(self) -> tuple[CustomerType, ...]:
        return TYPES if self.types is None else self.types


@dataclass(frozen=True)
class CustomerType:
    """True, unobserved behaviour of one kind of customer."""

    name: str
    share: float  # share of the customer base
    orders_per_year: float  # mean repeat-purchase rate while still active
    dropout: float  # chance of leaving for good after each order
    lines_per_order: float  # mean basket size in lines
    extra_units: float  # mean units beyond the first on a line
    price_tilt: float  # > 0 prefers the expensive products of a category
    category_weights: tuple[float, ...]  # preference over CATEGORIES
    discount_share: float  # share of lines bought on discount outside sales
    size_bracketing: float  # chance a sized item is also ordered in a second size
    return_effect: float  # type term of the return logit
    offer_response: tuple[float, ...]  # extra 14-day purchase chance per offer in OFFERS
    channel_weights: tuple[float, ...]  # preference over SALES_CHANNELS
    mean_age: float


CATEGORIES = ("apparel", "shoes", "electronics", "home", "beauty", "sports", "toys", "books")
CATEGORY_MEDIAN_PRICE = np.array([35.0, 70.0, 120.0, 40.0, 18.0, 45.0, 25.0, 14.0])
CATEGORY_PRICE_SPREAD = np.array([0.6, 0.5, 0.9, 0.8, 0.5, 0.7, 0.6, 0.4])
CATEGORY_CATALOGUE_SHARE = np.array([0.28, 0.12, 0.10, 0.14, 0.10, 0.09, 0.08, 0.09])
CATEGORY_RETURN_EFFECT = np.array([1.0, 0.9, 0.0, -0.3, -0.6, 0.2, -0.5, -1.0])
SIZED = np.array([True, True, False, False, False, False, False, False])

OFFERS = ("10pct_off", "free_shipping", "bundle")
VARIANTS = ("control", *OFFERS)
OFFER_TEXT = {
    "10pct_off": "10% off your next order",
    "free_shipping": "Free shipping on your next order",
    "bundle": "Add one more item to your basket for free",
}
SALES_CHANNELS = ("web", "app", "marketplace")
COUNTRIES = ("DE", "AT", "CH", "NL", "FR", "PL")
COUNTRY_WEIGHTS = (0.62, 0.12, 0.09, 0.08, 0.05, 0.04)
GENDERS = ("female", "male", "diverse")
ACQUISITION = ("organic_search", "paid_search", "social", "referral", "affiliate", "marketplace")
RETURN_REASONS = ("wrong_size", "changed_mind", "damaged", "not_as_described", "late_delivery")
SERVICE_CHANNELS = ("chat", "email", "phone")
TOPICS = ("return", "delivery", "account", "product_question")
HOURLY_RHYTHM = np.array(
    [
        0.3,
        0.15,
        0.1,
        0.1,
        0.1,
        0.2,
        0.4,
        0.7,
        0.9,
        1.0,
        1.1,
        1.2,
        1.3,
        1.2,
        1.1,
        1.1,
        1.1,
        1.2,
        1.4,
        1.6,
        1.7,
        1.6,
        1.2,
        0.6,
    ]
)

RETURN_INTERCEPT = -3.4
RETURN_PRICE_EFFECT = 0.35  # per log of price relative to the category median
RETURN_DISCOUNT_EFFECT = 0.3
RETURN_MULTI_COPY_EFFECT = 1.5  # several sizes or copies of one sized item in a basket
CAMPAIGN_WINDOW_DAYS = float(contract.ATTRIBUTION_DAYS)

TYPES = (
    CustomerType(
        "vip",
        share=0.05,
        orders_per_year=13.5,
        dropout=0.03,
        lines_per_order=4.0,
        extra_units=0.3,
        price_tilt=0.8,
        category_weights=(0.30, 0.15, 0.20, 0.12, 0.10, 0.06, 0.03, 0.04),
        discount_share=0.06,
        size_bracketing=0.10,
        return_effect=0.0,
        offer_response=(0.01, 0.08, 0.03),
        channel_weights=(0.55, 0.40, 0.05),
        mean_age=45,
    ),
    CustomerType(
        "frequent_small",
        share=0.20,
        orders_per_year=18.0,
        dropout=0.04,
        lines_per_order=1.5,
        extra_units=0.2,
        price_tilt=-0.5,
        category_weights=(0.22, 0.05, 0.04, 0.10, 0.25, 0.06, 0.08, 0.20),
        discount_share=0.12,
        size_bracketing=0.03,
        return_effect=-0.4,
        offer_response=(0.03, 0.04, 0.01),
        channel_weights=(0.35, 0.60, 0.05),
        mean_age=34,
    ),
    CustomerType(
        "bargain_hunter",
        share=0.20,
        orders_per_year=8.0,
        dropout=0.08,
        lines_per_order=2.8,
        extra_units=0.4,
        price_tilt=-0.4,
        category_weights=(0.32, 0.12, 0.08, 0.18, 0.08, 0.08, 0.10, 0.04),
        discount_share=0.55,
        size_bracketing=0.06,
        return_effect=0.1,
        offer_response=(0.15, 0.03, 0.05),
        channel_weights=(0.40, 0.20, 0.40),
        mean_age=36,
    ),
    CustomerType(
        "regular",
        share=0.25,
        orders_per_year=6.5,
        dropout=0.08,
        lines_per_order=2.5,
        extra_units=0.2,
        price_tilt=0.0,
        category_weights=(0.26, 0.12, 0.10, 0.15, 0.10, 0.10, 0.08, 0.09),
        discount_share=0.15,
        size_bracketing=0.05,
        return_effect=0.0,
        offer_response=(0.03, 0.03, 0.04),
        channel_weights=(0.60, 0.30, 0.10),
        mean_age=41,
    ),
    CustomerType(
        "one_time",
        share=0.22,
        orders_per_year=0.6,
        dropout=0.85,
        lines_per_order=1.8,
        extra_units=0.1,
        price_tilt=0.0,
        category_weights=(0.25, 0.12, 0.14, 0.14, 0.10, 0.08, 0.10, 0.07),
        discount_share=0.25,
        size_bracketing=0.04,
        return_effect=0.2,
        offer_response=(0.005, 0.005, 0.0),
        channel_weights=(0.45, 0.15, 0.40),
        mean_age=38,
    ),
    CustomerType(
        "serial_returner",
        share=0.08,
        orders_per_year=8.0,
        dropout=0.06,
        lines_per_order=3.5,
        extra_units=0.5,
        price_tilt=0.2,
        category_weights=(0.45, 0.25, 0.06, 0.08, 0.07, 0.05, 0.02, 0.02),
        discount_share=0.18,
        size_bracketing=0.40,
        return_effect=1.5,
        offer_response=(0.03, 0.06, 0.01),
        channel_weights=(0.55, 0.40, 0.05),
        mean_age=31,
    ),
)

SEPARATED_TYPES = (
    CustomerType(
        "loyal_big_spender",
        share=0.15,
        orders_per_year=15.0,
        dropout=0.02,
        lines_per_order=4.5,
        extra_units=0.5,
        price_tilt=1.0,
        category_weights=(0.25, 0.15, 0.25, 0.15, 0.08, 0.06, 0.03, 0.03),
        discount_share=0.03,
        size_bracketing=0.05,
        return_effect=-0.5,
        offer_response=(0.01, 0.05, 0.02),
        channel_weights=(0.5, 0.45, 0.05),
        mean_age=47,
    ),
    CustomerType(
        "frequent_small",
        share=0.25,
        orders_per_year=24.0,
        dropout=0.03,
        lines_per_order=1.2,
        extra_units=0.0,
        price_tilt=-0.8,
        category_weights=(0.10, 0.02, 0.02, 0.10, 0.35, 0.06, 0.10, 0.25),
        discount_share=0.08,
        size_bracketing=0.0,
        return_effect=-1.0,
        offer_response=(0.03, 0.04, 0.01),
        channel_weights=(0.2, 0.75, 0.05),
        mean_age=33,
    ),
    CustomerType(
        "deal_seeker",
        share=0.20,
        orders_per_year=6.0,
        dropout=0.06,
        lines_per_order=3.0,
        extra_units=0.6,
        price_tilt=-0.5,
        category_weights=(0.32, 0.12, 0.08, 0.18, 0.08, 0.08, 0.10, 0.04),
        discount_share=0.85,
        size_bracketing=0.05,
        return_effect=0.0,
        offer_response=(0.2, 0.03, 0.05),
        channel_weights=(0.3, 0.2, 0.5),
        mean_age=37,
    ),
    CustomerType(
        "one_time",
        share=0.25,
        orders_per_year=0.3,
        dropout=0.95,
        lines_per_order=1.5,
        extra_units=0.1,
        price_tilt=0.0,
        category_weights=(0.25, 0.12, 0.14, 0.14, 0.10, 0.08, 0.10, 0.07),
        discount_share=0.2,
        size_bracketing=0.03,
        return_effect=0.0,
        offer_response=(0.005, 0.005, 0.0),
        channel_weights=(0.45, 0.15, 0.40),
        mean_age=39,
    ),
    CustomerType(
        "serial_returner",
        share=0.15,
        orders_per_year=8.0,
        dropout=0.05,
        lines_per_order=4.0,
        extra_units=0.6,
        price_tilt=0.3,
        category_weights=(0.50, 0.30, 0.04, 0.06, 0.05, 0.03, 0.01, 0.01),
        discount_share=0.15,
        size_bracketing=0.6,
        return_effect=2.5,
        offer_response=(0.03, 0.06, 0.01),
        channel_weights=(0.55, 0.40, 0.05),
        mean_age=30,
    ),
)
"""Five customer types far apart in frequency, basket, discounts and returns: a shop on which any
sound segmentation should find the types, to check that the pipeline does."""


def _per_type(types: tuple[CustomerType, ...], attr: str) -> np.ndarray:
    return np.array([getattr(t, attr) for t in types])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _labels(codes: np.ndarray, names: tuple[str, ...], missing: np.ndarray | None = None) -> pa.Array:
    """Dictionary-encoded strings: compact in memory and read by DuckDB as VARCHAR."""
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32(), mask=missing), pa.array(names))


def _rng(spec: ShopSpec, *stream: int) -> np.random.Generator:
    return np.random.default_rng([spec.seed, *stream])


class Clock:
    """Shop time in days since spec.start, and 'busy time' in which shopping is uniform.

    Intensity follows a daily rhythm and a Black-Friday/Christmas peak; exponential
    waiting times drawn in busy time and mapped back to days give purchase times with
    that rhythm. Busy time is scaled so that both span the same number of days.
    """

    def __init__(self, spec: ShopSpec):
        hours = np.arange(spec.days * 24)
        dates = np.datetime64(spec.start, "D") + np.arange(spec.days)
        day_of_year = (dates - dates.astype("datetime64[Y]")).astype(int)
        self.peak = np.exp(-0.5 * ((day_of_year - 335) / 14.0) ** 2)
        busy = np.concatenate([[0.0], np.cumsum(HOURLY_RHYTHM[hours % 24] * (1 + 0.9 * self.peak[hours // 24]))])
        self._days = np.arange(hours.size + 1) / 24
        self._busy = busy * spec.days / busy[-1]
        self._start = np.datetime64(spec.start, "us")
        self.end = float(spec.days)

    def to_busy(self, t: np.ndarray) -> np.ndarray:
        return np.interp(t, self._days, self._busy)

    def to_days(self, u: np.ndarray) -> np.ndarray:
        return np.interp(u, self._busy, self._days)

    def sale_peak(self, t: np.ndarray) -> np.ndarray:
        """1 in the Black-Friday/Christmas sale, falling to 0 away from it."""
        return self.peak[np.minimum(t.astype(int), self.peak.size - 1)]

    @staticmethod
    def seconds(t: np.ndarray) -> np.ndarray:
        """Whole seconds since spec.start: the resolution of every timestamp written."""
        return np.floor(t * 86_400).astype(np.int64)

    def stamp(self, t: np.ndarray) -> pa.Array:
        """Naive timestamps of shop times in days."""
        return pa.array(self._start + self.seconds(t).astype("timedelta64[s]"), pa.timestamp("us"))


@dataclass(frozen=True)
class Catalogue:
    """Products with a category, a style, a list price and each type's chance of picking them."""

    category: np.ndarray
    price: np.ndarray
    choice: np.ndarray  # (type, product) probabilities
    style: np.ndarray


@dataclass(frozen=True)
class Campaign:
    """A marketing send: when it goes out, on which channel, and which offers it tests."""

    campaign_id: str
    day: float
    channel: str
    variants: tuple[int, ...]  # indices into VARIANTS, control first
    strength: float  # scales every offer's effect in this campaign


def _catalogue(spec: ShopSpec) -> Catalogue:
    """Products with lognormal list prices per category, uneven popularity and a random style."""
    rng = _rng(spec, 0)
    category = rng.choice(len(CATEGORIES), spec.n_products, p=CATEGORY_CATALOGUE_SHARE)
    relative = np.exp(rng.normal(0.0, CATEGORY_PRICE_SPREAD[category]))
    price = np.round(np.maximum(CATEGORY_MEDIAN_PRICE[category] * relative, 0.99), 2)
    popularity = np.exp(rng.normal(0.0, 1.2, spec.n_products))
    choice = []
    for kind in spec.customer_types:
        weight = popularity * relative**kind.price_tilt
        weight = weight / np.bincount(category, weight, len(CATEGORIES))[category]
        weight = weight * np.array(kind.category_weights)[category]
        choice.append(weight / weight.sum())
    style = _rng(spec, 3).integers(spec.n_styles, size=spec.n_products)
    return Catalogue(category, price, np.array(choice), style)


def _favourite_styles(rng: np.random.Generator, n_styles: int, n: int) -> np.ndarray:
    """Two different styles per customer, at random and whatever the customer's type: shape (n, 2)."""
    first = rng.integers(n_styles, size=n)
    return np.column_stack([first, (first + 1 + rng.integers(n_styles - 1, size=n)) % n_styles])


def _in_styles(
    cat: Catalogue, k: int, n_styles: int, styles: np.ndarray, u: np.ndarray, otherwise: np.ndarray
) -> np.ndarray:
    """Products picked at uniforms u by type k from each line's two styles, the type's choice
    probabilities of those styles' products renormalised; a line whose styles hold nothing the
    type buys keeps its product from otherwise."""
    by_style = np.argsort(cat.style, kind="stable")
    cumulative = np.concatenate([[0.0], np.cumsum(cat.choice[k, by_style])])
    bounds = np.searchsorted(cat.style[by_style], np.arange(n_styles + 1))
    mass = np.diff(cumulative[bounds])[styles]
    x = u * mass.sum(axis=1)
    second = (x >= mass[:, 0]) & (mass[:, 1] > 0)
    style = np.where(second, styles[:, 1], styles[:, 0])
    target = cumulative[bounds[style]] + np.where(second, x - mass[:, 0], x)
    at = np.clip(np.searchsorted(cumulative, target, side="right") - 1, bounds[style], bounds[style + 1] - 1)
    return np.where(mass.sum(axis=1) > 0, by_style[at], otherwise)


def _campaign_schedule(spec: ShopSpec) -> list[Campaign]:
    """One campaign about every two months, each testing two or three offers against a hold-out."""
    rng = _rng(spec, 1)
    campaigns: list[Campaign] = []
    day = 30.0
    while day + CAMPAIGN_WINDOW_DAYS + 1 < spec.days:
        k = len(campaigns)
        offers = [v for v in range(1, len(VARIANTS)) if k % 2 == 0 or v != 1 + k % len(OFFERS)]
        campaigns.append(
            Campaign(
                f"CMP{k + 1:03d}",
                day + 9 / 24,
                ("email", "email", "push", "sms")[k % 4],
                (0, *offers),
                float(rng.uniform(0.8, 1.25)),
            )
        )
        day += spec.campaign_every_days
    return campaigns


def _customers(rng: np.random.Generator, spec: ShopSpec, clock: Clock, first_no: int, n: int) -> dict:
    """Customer master data, their hidden traits (ground truth) and, prefixed "_", working arrays."""
    types = spec.customer_types
    kind = rng.choice(len(types), n, p=_per_type(types, "share"))
    signup = clock.to_days(rng.beta(0.9, 1.5, n) * clock.end)
    age = np.clip(rng.normal(_per_type(types, "mean_age")[kind], 11.0), 18, 85)
    country = rng.choice(len(COUNTRIES), n, p=COUNTRY_WEIGHTS)
    preferred = (rng.random((n, 1)) > np.cumsum(_per_type(types, "channel_weights")[kind], axis=1)).sum(axis=1)
    return_effect = _per_type(types, "return_effect")[kind] + rng.normal(0.0, 0.5, n)
    return {
        "customer_no": np.arange(first_no, first_no + n),
        "signup_ts": clock.stamp(signup),
        "birth_year": (spec.start.year - age).astype(np.int32),
        "gender": _labels(rng.choice(len(GENDERS), n, p=[0.53, 0.45, 0.02]), GENDERS, rng.random(n) < 0.03),
        "country": _labels(country, COUNTRIES),
        "acquisition_channel": _labels(
            rng.choice(len(ACQUISITION), n, p=[0.3, 0.22, 0.18, 0.1, 0.12, 0.08]), ACQUISITION
        ),
        "latent_type": _labels(kind, tuple(t.name for t in types)),
        "true_return_propensity": _sigmoid(RETURN_INTERCEPT + return_effect),
        "orders_per_year": _per_type(types, "orders_per_year")[kind] * rng.gamma(2.0, 0.5, n),
        "dropout_probability": _per_type(types, "dropout")[kind],
        "_kind": kind,
        "_signup": signup,
        "_country": country,
        "_return_effect": return_effect,
        "_channel": np.minimum(preferred, len(SALES_CHANNELS) - 1),
        "_buys": rng.random(n) > 0.03,
    }


def _organic_orders(rng: np.random.Generator, clock: Clock, cust: dict) -> dict:
    """Purchase timing, BG/NBD style: a first order soon after signup, then repeat orders as a
    Poisson process at the customer's own rate, until the customer drops out for good, which
    happens after each order with the type's dropout probability. Records who churned."""
    n = cust["_kind"].size
    u = clock.to_busy(cust["_signup"]) + rng.exponential(np.where(rng.random(n) < 0.7, 0.2, 30.0))
    who = np.flatnonzero(cust["_buys"] & (u < clock.end))
    u = u[who]
    owners, times = [who], [u]
    cust["churned"] = np.zeros(n, dtype=bool)
    while who.size:
        stays = rng.random(who.size) >= cust["dropout_probability"][who]
        cust["churned"][who[~stays]] = True
        who, u = who[stays], u[stays] + rng.exponential(365.0 / cust["orders_per_year"][who[stays]])
        who, u = who[u < clock.end], u[u < clock.end]
        owners.append(who)
        times.append(u)
    return {"owner": np.concatenate(owners), "t": clock.to_days(np.concatenate(times))}


def _campaign_exposures(
    rng, spec: ShopSpec, clock: Clock, cust: dict, organic: dict, campaigns: list[Campaign]
) -> tuple[dict, dict]:
    """Each campaign goes to a random share of the customers who signed up and have bought within
    the last year (or not yet), randomised over its variants. The hold-out gets no message; an
    offer makes the customer buy within 14 days with a type-specific chance.
    Returns the exposures and the orders those offers caused."""
    effect = np.array([(0.0, *t.offer_response) for t in spec.customer_types])
    none = np.empty(0, dtype=np.int64)
    exposed, caused = [(none, none, none, np.empty(0), np.empty(0, dtype=bool))], [(none, np.empty(0), none)]
    for c, campaign in enumerate(campaigns):
        last = np.full(cust["_kind"].size, -np.inf)
        before = organic["t"] < campaign.day
        np.maximum.at(last, organic["owner"][before], organic["t"][before])
        recent = (last >= campaign.day - 365) | (last == -np.inf)
        who = np.flatnonzero((cust["_signup"] < campaign.day) & recent)
        who = who[rng.random(who.size) < spec.campaign_reach]
        variant = np.array(campaign.variants)[rng.integers(len(campaign.variants), size=who.size)]
        sent = campaign.day + rng.uniform(0.0, 2 / 24, who.size)
        buys = rng.random(who.size) < campaign.strength * effect[cust["_kind"][who], variant]
        engaged = (variant > 0) & (buys | (rng.random(who.size) < 0.25))
        exposed.append((np.full(who.size, c), who, variant, sent, engaged))
        start = clock.to_busy(sent[buys])
        window = clock.to_busy(sent[buys] + CAMPAIGN_WINDOW_DAYS) - start
        caused.append((who[buys], clock.to_days(start + rng.random(start.size) * window), variant[buys]))
    campaign, owner, variant, sent, engaged = (np.concatenate(column) for column in zip(*exposed))
    exposures = {
        "campaign_no": campaign,
        "campaign_id": _labels(campaign, tuple(c.campaign_id for c in campaigns)),
        "customer_no": cust["customer_no"][owner],
        "sent_ts": clock.stamp(sent),
        "variant": _labels(variant, VARIANTS),
        "is_control": variant == 0,
        "channel": _labels(campaign, tuple(c.channel for c in campaigns)),
        "offer": _labels(variant, ("", *(OFFER_TEXT[o] for o in OFFERS)), variant == 0),
        "engaged": engaged,
        "_owner": owner,
        "_sent": sent,
    }
    return exposures, dict(zip(("owner", "t", "offer"), (np.concatenate(column) for column in zip(*caused))))


def _orders(rng: np.random.Generator, cust: dict, organic: dict, caused: dict, first_no: int) -> dict:
    """All orders of the block in time order, numbered from first_no; most on the customer's usual channel."""
    t = np.concatenate([organic["t"], caused["t"]])
    when = np.argsort(t, kind="stable")
    owner = np.concatenate([organic["owner"], caused["owner"]])[when]
    usual = cust["_channel"][owner]
    return {
        "no": first_no + np.arange(t.size),
        "owner": owner,
        "t": t[when],
        "offer": np.concatenate([np.zeros(organic["t"].size, int), caused["offer"]])[when],
        "channel": np.where(rng.random(t.size) < 0.2, rng.integers(len(SALES_CHANNELS), size=t.size), usual),
    }


def _transactions(
    rng: np.random.Generator,
    taste: np.random.Generator,
    spec: ShopSpec,
    clock: Clock,
    cat: Catalogue,
    cust: dict,
    orders: dict,
) -> dict:
    """Order lines: basket size, products, units and discounts by customer type, plus each
    line's true return probability from a logistic model of customer, category, price, discount
    and whether the basket holds several sizes or copies of the same sized item.

    With chance style_loyalty a line's product comes from the customer's two favourite styles
    only. Those styles and picks come from taste, a random stream of their own."""
    types = spec.customer_types
    kind_of_order = cust["_kind"][orders["owner"]]
    n_lines = 1 + rng.poisson(_per_type(types, "lines_per_order")[kind_of_order] - 1)
    order = np.repeat(np.arange(n_lines.size), n_lines + (orders["offer"] == VARIANTS.index("bundle")))
    kind = kind_of_order[order]
    favourite = _favourite_styles(taste, spec.n_styles, cust["_kind"].size)
    product = np.empty(order.size, dtype=np.int64)
    for k in range(len(types)):
        mine = np.flatnonzero(kind == k)
        product[mine] = rng.choice(cat.price.size, mine.size, p=cat.choice[k])
        loyal = mine[taste.random(mine.size) < spec.style_loyalty]
        styles = favourite[orders["owner"][order[loyal]]]
        product[loyal] = _in_styles(cat, k, spec.n_styles, styles, taste.random(loyal.size), product[loyal])
    quantity = 1 + rng.poisson(_per_type(types, "extra_units")[kind])
    second_size = SIZED[cat.category[product]] & (rng.random(order.size) < _per_type(types, "size_bracketing")[kind])
    line = np.repeat(np.arange(order.size), 1 + second_size)
    quantity = np.where(np.diff(line, prepend=-1) == 0, 1, quantity[line])
    order, kind, product = order[line], kind[line], product[line]
    category, unit_price, t = cat.category[product], cat.price[product], orders["t"][order]

    _, same, copies = np.unique(order * cat.price.size + product, return_inverse=True, return_counts=True)
    multi_copy = SIZED[category] & ((copies[same] > 1) | (quantity > 1))
    on_sale = rng.random(order.size) < np.minimum(
        _per_type(types, "discount_share")[kind] * (1 + clock.sale_peak(t)), 0.95
    )
    off = np.where(on_sale, rng.choice([0.1, 0.2, 0.3, 0.5], order.size, p=[0.35, 0.35, 0.2, 0.1]), 0.0)
    off = np.where(orders["offer"][order] == VARIANTS.index("10pct_off"), 0.1, off)
    owner = orders["owner"][order]
    logit = (
        RETURN_INTERCEPT
        + cust["_return_effect"][owner]
        + CATEGORY_RETURN_EFFECT[category]
        + RETURN_PRICE_EFFECT * np.log(unit_price / CATEGORY_MEDIAN_PRICE[category])
        + RETURN_DISCOUNT_EFFECT * (off > 0)
        + RETURN_MULTI_COPY_EFFECT * multi_copy
    )
    return {
        "order_no": orders["no"][order],
        "line_no": np.arange(order.size) - np.searchsorted(order, order) + 1,
        "customer_no": cust["customer_no"][owner],
        "order_ts": clock.stamp(t),
        "product_no": product + 1,
        "quantity": quantity.astype(np.int64),
        "unit_price": unit_price,
        "category": _labels(category, CATEGORIES),
        "discount": np.round(off * quantity * unit_price, 2),
        "channel": _labels(orders["channel"][order], SALES_CHANNELS),
        "country": _labels(cust["_country"][owner], COUNTRIES),
        "true_return_probability": _sigmoid(logit),
        "_order": order,
        "_owner": owner,
        "_t": t,
        "_category": category,
    }


def _attribute_conversions(exposures: dict, orders: dict, lines: dict) -> None:
    """converted: any order (caused by the offer or not) within 14 days of the message;
    revenue: the net value of those orders."""
    net = lines["quantity"] * lines["unit_price"] - lines["discount"]
    value = np.bincount(lines["_order"], net, orders["t"].size)
    key = (orders["owner"] << 32) + Clock.seconds(orders["t"])
    rank = np.argsort(key, kind="stable")
    key, cumulative = key[rank], np.concatenate([[0.0], np.cumsum(value[rank])])
    start = (exposures["_owner"] << 32) + Clock.seconds(exposures["_sent"])
    lo = np.searchsorted(key, start)
    hi = np.searchsorted(key, start + Clock.seconds(np.array(CAMPAIGN_WINDOW_DAYS)))
    exposures["converted"] = hi > lo
    exposures["revenue"] = np.round(cumulative[hi] - cumulative[lo], 2)


def _returns(rng: np.random.Generator, clock: Clock, lines: dict, first_no: int) -> dict:
    """Returned lines 2 to 30 days after the order, with the returned share of the net line value refunded."""
    line = np.flatnonzero(rng.random(lines["_t"].size) < lines["true_return_probability"])
    t = lines["_t"][line] + 2.0 + np.minimum(rng.gamma(2.0, 3.0, line.size), 28.0)
    when = np.argsort(t, kind="stable")
    when = when[t[when] < clock.end]
    line, t = line[when], t[when]
    ordered = lines["quantity"][line]
    quantity = 1 + rng.binomial(ordered - 1, 0.5)
    net = ordered * lines["unit_price"][line] - lines["discount"][line]
    reason = np.where(
        SIZED[lines["_category"][line]],
        rng.choice(5, line.size, p=[0.55, 0.2, 0.08, 0.12, 0.05]),
        rng.choice(5, line.size, p=[0.05, 0.35, 0.25, 0.25, 0.10]),
    )
    return {
        "return_no": first_no + np.arange(line.size),
        "customer_no": lines["customer_no"][line],
        "product_no": lines["product_no"][line],
        "return_ts": clock.stamp(t),
        "quantity": quantity.astype(np.int64),
        "order_no": lines["order_no"][line],
        "refund_amount": np.round(quantity / ordered * net, 2),
        "reason": _labels(reason, RETURN_REASONS),
        "_line": line,
        "_t": t,
    }


def _service_interactions(
    rng: np.random.Generator, clock: Clock, cust: dict, orders: dict, lines: dict, returns: dict, first_no: int
) -> dict:
    """Contacts around returns (0-5 days either side), late deliveries (3-10 days after an
    order, more often for marketplace orders) and background account or product questions."""
    contacted = rng.random(returns["_t"].size) < 0.3
    line = returns["_line"][contacted]
    near_return = np.maximum(returns["_t"][contacted] + rng.uniform(-5.0, 5.0, line.size), lines["_t"][line] + 0.25)
    late = np.flatnonzero(rng.random(orders["t"].size) < np.where(orders["channel"] == 2, 0.07, 0.03))
    n_other = rng.poisson(0.25 * (clock.end - cust["_signup"]) / 365)
    other = np.repeat(np.arange(n_other.size), n_other)
    owner = np.concatenate([lines["_owner"][line], orders["owner"][late], other])
    t = np.concatenate(
        [
            near_return,
            orders["t"][late] + rng.uniform(3.0, 10.0, late.size),
            rng.uniform(cust["_signup"][other], clock.end),
        ]
    )
    topic = np.concatenate(
        [np.zeros(line.size, int), np.ones(late.size, int), rng.choice([2, 3], other.size, p=[0.4, 0.6])]
    )
    resolved = rng.random(t.size) < np.array([0.85, 0.7, 0.9, 0.88])[topic]
    csat = np.where(
        resolved, rng.choice([3, 4, 5], t.size, p=[0.15, 0.35, 0.5]), rng.choice([1, 2, 3], t.size, p=[0.45, 0.35, 0.2])
    ).astype(np.int32)
    answered = rng.random(t.size) < 0.5
    channel = rng.choice(len(SERVICE_CHANNELS), t.size, p=[0.45, 0.35, 0.2])
    when = np.argsort(t, kind="stable")
    when = when[t[when] < clock.end]
    return {
        "interaction_no": first_no + np.arange(when.size),
        "customer_no": cust["customer_no"][owner[when]],
        "interaction_ts": clock.stamp(t[when]),
        "channel": _labels(channel[when], SERVICE_CHANNELS),
        "topic": _labels(topic[when], TOPICS),
        "resolved": resolved[when],
        "csat": pa.array(csat[when], mask=~answered[when]),
    }


def _simulate_block(
    spec: ShopSpec, clock: Clock, cat: Catalogue, campaigns: list[Campaign], block: int, next_no: dict[str, int]
) -> dict[str, dict]:
    """All tables for one block of customers; ids continue the numbering of the previous blocks."""
    rng = _rng(spec, 2, block)
    first = 1 + block * spec.block_size
    cust = _customers(rng, spec, clock, first, min(spec.block_size, spec.n_customers - first + 1))
    organic = _organic_orders(rng, clock, cust)
    exposures, caused = _campaign_exposures(rng, spec, clock, cust, organic, campaigns)
    orders = _orders(rng, cust, organic, caused, next_no["order"])
    lines = _transactions(rng, _rng(spec, 4, block), spec, clock, cat, cust, orders)
    _attribute_conversions(exposures, orders, lines)
    returns = _returns(rng, clock, lines, next_no["return"])
    contacts = _service_interactions(rng, clock, cust, orders, lines, returns, next_no["interaction"])
    next_no["order"] += orders["no"].size
    next_no["return"] += returns["return_no"].size
    next_no["interaction"] += contacts["interaction_no"].size
    return {
        "customers": cust,
        "transactions": lines,
        "returns": returns,
        "campaign_exposures": exposures,
        "service_interactions": contacts,
    }


def _final_queries(spec: ShopSpec) -> dict[str, tuple[str, str, str]]:
    """Per output file: the part files it is built from, the SELECT list giving its columns, the sort order.

    Parts carry numeric keys; the SELECT turns them into ids such as C000123 or O0000001."""
    ids = {
        "customer_id": f"printf('C%0{max(6, len(str(spec.n_customers)))}d', customer_no)",
        "order_id": "printf('O%07d', order_no)",
        "product_id": "printf('P%05d', product_no)",
        "return_id": "printf('R%07d', return_no)",
        "interaction_id": "printf('S%07d', interaction_no)",
    }

    def select(columns: list[str]) -> str:
        return ", ".join(f"{ids[c]} AS {c}" if c in ids else c for c in columns)

    order_by = {
        "customers": "customer_no",
        "transactions": "order_ts, order_no, line_no",
        "returns": "return_ts, return_no",
        "campaign_exposures": "sent_ts, campaign_no, customer_no",
        "service_interactions": "interaction_ts, interaction_no",
    }
    queries = {name: (name, select(table.column_names), order_by[name]) for name, table in contract.TABLES.items()}
    truth = [
        "customer_id",
        "latent_type",
        "true_return_propensity",
        "orders_per_year",
        "dropout_probability",
        "churned",
    ]
    queries["ground_truth/customer_truth"] = ("customers", select(truth), "customer_no")
    if spec.write_line_truth:
        line_truth = ["order_id", "line_no", "product_id", "true_return_probability"]
        queries["ground_truth/line_truth"] = ("transactions", select(line_truth), "order_no, line_no")
    return queries


def _campaign_truth(campaigns: list[Campaign], types: tuple[CustomerType, ...]) -> pa.Table:
    """True chance that a variant makes a customer of each type buy within 14 days, on top of the
    orders they would have placed anyway (0 for the hold-out, which receives no message)."""
    rows = [
        (c.campaign_id, VARIANTS[v], t.name, c.strength * (0.0, *t.offer_response)[v])
        for c in campaigns
        for v in c.variants
        for t in types
    ]
    names = ("campaign_id", "variant", "latent_type", "true_conversion_rate")
    return pa.table({name: pa.array([r[i] for r in rows]) for i, name in enumerate(names)})


def generate_shop(spec: ShopSpec, out_dir: Path) -> dict[str, int]:
    """Write transactions.parquet, returns.parquet, customers.parquet, campaign_exposures.parquet,
    service_interactions.parquet into out_dir and ground truth into out_dir/ground_truth/.
    Returns row counts per table.

    Ground truth, which the pipeline never reads:
    - customer_truth: latent_type; true_return_propensity, the customer-level term of the return
      model (chance of returning a single, full-price electronics item at the category's median
      price); orders_per_year while active; dropout_probability after each order; churned,
      whether the customer had dropped out by the end;
    - campaign_truth: true_conversion_rate per campaign, variant and type (see _campaign_truth);
    - line_truth: true_return_probability of every order line, keyed by order_id and line_no
      (the line's position within its order in transactions.parquet).
    """
    out_dir = Path(out_dir)
    parts, spill = out_dir / "_parts", out_dir / "_duckdb_tmp"
    shutil.rmtree(parts, ignore_errors=True)
    (out_dir / "ground_truth").mkdir(parents=True, exist_ok=True)
    clock, cat, campaigns = Clock(spec), _catalogue(spec), _campaign_schedule(spec)
    next_no = {"order": 1, "return": 1, "interaction": 1}
    for block in range(-(-spec.n_customers // spec.block_size)):
        for name, columns in _simulate_block(spec, clock, cat, campaigns, block, next_no).items():
            (parts / name).mkdir(parents=True, exist_ok=True)
            table = pa.table({k: v for k, v in columns.items() if not k.startswith("_")})
            pq.write_table(table, parts / name / f"{block:06d}.parquet")
    pq.write_table(_campaign_truth(campaigns, spec.customer_types), out_dir / "ground_truth" / "campaign_truth.parquet")

    counts = {}
    with duckdb.connect() as con:
        con.execute(f"SET memory_limit = '{spec.duckdb_memory_limit}'")
        con.execute(f"SET temp_directory = '{spill}'")
        for target, (source, select, order_by) in _final_queries(spec).items():
            (written,) = con.execute(
                f"COPY (SELECT {select} FROM read_parquet('{parts / source}/*.parquet') ORDER BY {order_by}) "
                f"TO '{out_dir / target}.parquet' (FORMAT parquet, ROW_GROUP_SIZE 100000)"
            ).fetchone()
            if not target.startswith("ground_truth/"):
                counts[target] = written
    shutil.rmtree(parts)
    shutil.rmtree(spill, ignore_errors=True)
    return counts
