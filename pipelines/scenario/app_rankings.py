"""App Store top-free charts: raw/app_rankings/<YYYY-MM-DD>/<country>-<chart>.json, 100 apps each.

The three providers' apps (config app names and ids) sit at the ranks the timeline plans; the other places
go to filler apps ordered by a slowly drifting popularity score per country. Most days are Apple RSS v2
(`feed.results[]`, rank = position + 1); LEGACY_DAYS are written in the legacy iTunes RSS shape (`feed.entry[]`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from email.utils import format_datetime

import numpy as np

from pipelines.scenario.output import Ledger
from pipelines.scenario.status_pages import PACIFIC
from pipelines.scenario.timeline import (
    PROVIDERS,
    S_RANK_WALK,
    S_RANKS,
    WORLD_END,
    WORLD_START,
    World,
    day_start,
    days_between,
    rng_for,
)

SOURCE = "app_rankings"
CHART = "top-free"
LEGACY_DAYS = (dt.date(2025, 12, 14), dt.date(2026, 1, 25), dt.date(2026, 3, 4))
CHART_SIZE = 100

# name | developer | genre | countries where it charts (empty = everywhere); roughly by popularity
_CATALOG = """\
Temu: Shop Like a Billionaire|Temu|Shopping|
Threads|Instagram, Inc.|Social Networking|
TikTok - Videos, Shop & LIVE|TikTok Ltd.|Entertainment|
Google|Google|Utilities|
WhatsApp Messenger|WhatsApp Inc.|Social Networking|
Instagram|Instagram, Inc.|Photo & Video|
YouTube|Google|Photo & Video|
CapCut: Photo & Video Editor|Bytedance Pte. Ltd|Photo & Video|
Gmail - Email by Google|Google|Productivity|
Google Maps|Google|Navigation|
Facebook|Meta Platforms, Inc.|Social Networking|
Messenger|Meta Platforms, Inc.|Social Networking|
Snapchat|Snap, Inc.|Photo & Video|
Meta AI|Meta Platforms, Inc.|Productivity|
Microsoft Copilot|Microsoft Corporation|Productivity|
Perplexity - Ask Anything|Perplexity AI, Inc.|Productivity|
Grok|X.AI Corp|Productivity|
DeepSeek - AI Assistant|DeepSeek|Productivity|
Spotify: Music and Podcasts|Spotify|Music|
Netflix|Netflix, Inc.|Entertainment|
Amazon Shopping|AMZN Mobile LLC|Shopping|
SHEIN - Shopping Online|ROADGET BUSINESS PTE. LTD.|Shopping|
Telegram Messenger|Telegram FZ-LLC|Social Networking|
Pinterest|Pinterest|Lifestyle|
Reddit|reddit inc.|News|
X|X Corp.|News|
Discord - Chat, Talk & Hangout|Discord, Inc.|Social Networking|
Duolingo - Language Lessons|Duolingo|Education|
Uber - Request a ride|Uber Technologies, Inc.|Travel|
Google Chrome|Google|Utilities|
Google Photos|Google|Photo & Video|
Google Drive|Google|Productivity|
Canva: AI Photo & Video Editor|Canva|Graphics & Design|
Picsart AI Photo Editor|PicsArt, Inc.|Photo & Video|
Microsoft Outlook|Microsoft Corporation|Productivity|
Microsoft Teams|Microsoft Corporation|Business|
Zoom Workplace|Zoom Communications, Inc.|Business|
LinkedIn: Network & Job Finder|LinkedIn Corporation|Business|
Roblox|Roblox Corporation|Games|
Block Blast!|Hungry Studio|Games|
Royal Match|Dream Games|Games|
Candy Crush Saga|King|Games|
Subway Surfers|Sybo Games ApS|Games|
Microsoft Authenticator|Microsoft Corporation|Business|
Google Authenticator|Google|Utilities|
Disney+|Disney|Entertainment|
Prime Video|AMZN Mobile LLC|Entertainment|
Tinder Dating App: Date & Chat|Tinder Inc.|Lifestyle|
Hinge Dating App|Hinge, Inc.|Lifestyle|
Bumble Dating App: Meet & Date|Bumble Inc.|Lifestyle|
Airbnb|Airbnb, Inc.|Travel|
Booking.com: Hotels & Travel|Booking.com|Travel|
Calm|Calm.com, Inc.|Health & Fitness|
Strava: Run, Bike, Hike|Strava Inc.|Health & Fitness|
MyFitnessPal: Calorie Counter|MyFitnessPal, Inc.|Health & Fitness|
Flo Period & Pregnancy Tracker|Flo Health UK Limited|Health & Fitness|
PictureThis - Plant Identifier|Glority Global Group Ltd.|Education|
Shazam: Find Music & Concerts|Apple|Music|
Lemon8 - Lifestyle Community|Heliophilia Pte. Ltd.|Lifestyle|
Signal - Private Messenger|Signal Messenger, LLC|Social Networking|
BeReal. Your friends for real.|BeReal|Social Networking|
Character AI: Chat, Talk, Text|Character Technologies, Inc.|Entertainment|
Gauth: AI Study Companion|Gauth|Education|
Photomath|Google|Education|
Brainly: AI Homework Helper|Brainly|Education|
Vinted: sell vintage clothes|Vinted|Shopping|gb,de
Cash App|Block, Inc.|Finance|us
Venmo|PayPal, Inc.|Finance|us
PayPal - Send, Shop, Manage|PayPal, Inc.|Finance|
DoorDash - Food Delivery|DoorDash, Inc.|Food & Drink|us
Uber Eats: Food Delivery|Uber Technologies, Inc.|Food & Drink|us,gb
McDonald's|McDonald's USA, LLC|Food & Drink|us
Walmart: Shopping & Savings|Walmart|Shopping|us
Target|Target|Shopping|us
Instacart: Groceries & Food|Maplebear Inc.|Shopping|us
Lyft|Lyft, Inc.|Travel|us
Chick-fil-A|Chick-fil-A, Inc.|Food & Drink|us
Starbucks|Starbucks Coffee Company|Food & Drink|us
Max: Stream HBO, TV, & Movies|WarnerMedia Global Digital Services, LLC|Entertainment|us
Paramount+|CBS Interactive|Entertainment|us
Peacock TV: Stream TV & Movies|Peacock TV LLC|Entertainment|us
Hulu: Stream TV shows & movies|Disney|Entertainment|us
Tubi: Movies & Live TV|Tubi, Inc.|Entertainment|us
ESPN: Live Sports & Scores|ESPN|Sports|us
FanDuel Sportsbook & Casino|Betfair Interactive US LLC|Sports|us
DraftKings Sportsbook & Casino|DraftKings, Inc.|Sports|us
Fox News: Live Breaking News|FOX News Network|News|us
Zillow Real Estate & Rentals|Zillow, Inc.|Lifestyle|us
Life360: Find Friends & Family|Life360|Social Networking|us,gb
Chase Mobile|JPMorgan Chase & Co.|Finance|us
Capital One Mobile|Capital One|Finance|us
Credit Karma: Credit Scores|Credit Karma, Inc.|Finance|us
Chime - Mobile Banking|Chime|Finance|us
Robinhood: Investing for All|Robinhood Markets, Inc.|Finance|us
Coinbase: Buy Bitcoin & Ether|Coinbase, Inc.|Finance|us,gb,sg
Fetch: America's Rewards App|Fetch Rewards|Shopping|us
Ibotta: Save & Earn Cash Back|Ibotta, Inc.|Shopping|us
Shop: All your favorite brands|Shopify Inc.|Shopping|us
Dollar General|DOLGENCORP, LLC|Shopping|us
CVS Pharmacy|CVS Pharmacy|Health & Fitness|us
Ring - Always Home|Ring.com|Lifestyle|us,gb
The Weather Channel: Forecast|The Weather Channel Interactive|Weather|us
Waze Navigation & Live Traffic|Waze Inc.|Navigation|
Indeed Job Search|Indeed Inc.|Business|us,gb,in
Ticketmaster-Buy, Sell Tickets|Ticketmaster|Entertainment|us,gb
BBC iPlayer|Media Applications Technologies for the BBC|Entertainment|gb
Tesco Grocery & Clubcard|Tesco|Shopping|gb
Monzo Bank - Mobile Banking|Monzo Bank Limited|Finance|gb
Revolut: Send, spend and save|Revolut Ltd|Finance|gb,de,sg
Deliveroo: Food Delivery|Deliveroo|Food & Drink|gb,sg
Just Eat - Food Delivery|Just Eat Holding Limited|Food & Drink|gb
Trainline: Train travel Europe|Trainline|Travel|gb,de
NHS App|NHS Business Services Authority|Medical|gb
Lidl Plus|Lidl Digital International GmbH & Co. KG|Shopping|gb,de
Rightmove property search|Rightmove PLC|Lifestyle|gb
Sky Go|Sky UK Limited|Entertainment|gb
ITVX|ITV PLC|Entertainment|gb
Royal Mail|Royal Mail Group Ltd|Business|gb
Barclays|Barclays Bank PLC|Finance|gb
DB Navigator|Deutsche Bahn|Travel|de
Kleinanzeigen|kleinanzeigen.de GmbH|Shopping|de
ZDFmediathek|ZDF|Entertainment|de
WEB.DE Mail|WEB.DE|Productivity|de
Zalando|Zalando SE|Shopping|de
N26 - Love your bank|N26 GmbH|Finance|de
Trade Republic|Trade Republic Bank GmbH|Finance|de
Deutschland-Ticket|Deutsche Bahn|Travel|de
ARD Mediathek|ARD|Entertainment|de
Sparkasse Ihre mobile Filiale|Star Finanz GmbH|Finance|de
Lieferando.de|Takeaway.com|Food & Drink|de
Joyn|Joyn GmbH|Entertainment|de
PhonePe: Secure Payments App|PhonePe Pvt. Ltd.|Finance|in
Paytm: Secure UPI Payments|Paytm|Finance|in
Google Pay|Google|Finance|in
JioHotstar|Star India Pvt. Ltd.|Entertainment|in
Zepto: 10-Min Grocery Delivery|KiranaKart Technologies Pvt Ltd|Shopping|in
Blinkit: Grocery in minutes|Blink Commerce Private Limited|Shopping|in
Swiggy: Food & Grocery Delivery|Bundl Technologies Private Limited|Food & Drink|in
Zomato: Food Delivery & Dining|Zomato Limited|Food & Drink|in
Flipkart - Online Shopping App|Flipkart Internet Private Limited|Shopping|in
Meesho: Online Shopping|Fashnear Technologies Private Limited|Shopping|in
Myntra - Fashion Shopping App|Myntra Designs Private Limited|Shopping|in
Rapido: Bike-Taxi, Auto & Cabs|Roppen Transportation Services Pvt Ltd|Travel|in
Ola - Book Cab, Auto, Bike|ANI Technologies Pvt. Ltd.|Travel|in
Truecaller: Block spam calls|True Software Scandinavia AB|Utilities|in
Snapdeal Online Shopping App|Snapdeal|Shopping|in
DigiLocker|Ministry of Electronics and IT|Utilities|in
IRCTC Rail Connect|IRCTC|Travel|in
Amazon Prime Video India|AMZN Mobile LLC|Entertainment|in
Grab: Taxi Ride, Food Delivery|Grab.com|Travel|sg
Shopee SG: No Shipping Fee|Shopee|Shopping|sg
Lazada - Online Shopping App|Lazada South East Asia Pte. Ltd.|Shopping|sg
Singpass|GovTech|Utilities|sg
DBS PayLah!|DBS Bank Ltd|Finance|sg
Gojek|Gojek|Travel|sg
foodpanda: Food & Groceries|foodpanda GmbH|Food & Drink|sg
Carousell: Snap-Sell, Chat-Buy|Carousell|Shopping|sg
SimplyGo|Land Transport Authority|Navigation|sg
OCBC Singapore|OCBC Bank|Finance|sg
HealthHub SG|Ministry of Health, Singapore|Medical|sg
TADA - Taxi, Cab, Ride Hailing|MVL Foundation|Travel|sg
Google Translate|Google|Reference|
Google Meet|Google|Business|
Google Home|Google|Lifestyle|
Google Docs: Sync, Edit, Share|Google|Productivity|
Google Calendar: Get Organized|Google|Productivity|
Microsoft Word|Microsoft Corporation|Productivity|
Microsoft Excel|Microsoft Corporation|Productivity|
Microsoft OneDrive|Microsoft Corporation|Productivity|
Microsoft Edge: AI browser|Microsoft Corporation|Productivity|
Dropbox: Files & Photo Storage|Dropbox, Inc.|Productivity|
Adobe Acrobat Reader: Edit PDF|Adobe Inc.|Productivity|
Adobe Express: AI Photo, Video|Adobe Inc.|Graphics & Design|
Lightroom Photo & Video Editor|Adobe Inc.|Photo & Video|
Remini - AI Photo Enhancer|Bending Spoons Apps ApS|Photo & Video|
PhotoRoom AI Photo Editor|Photoroom|Photo & Video|
InShot - Video Editor|InShot Inc.|Photo & Video|
VLC media player|VideoLAN|Entertainment|
Brave Private Web Browser|Brave Software, Inc.|Utilities|
DuckDuckGo Private Browser|DuckDuckGo, Inc.|Utilities|
Firefox: Private, Safe Browser|Mozilla|Utilities|
NordVPN: VPN Fast & Secure|nordvpn s.a.|Utilities|
Proton VPN: Fast & Secure|Proton AG|Utilities|
Proton Mail: Encrypted Email|Proton AG|Productivity|
Yahoo Mail - Organized Email|Yahoo|Productivity|
Nike: Shoes, Apparel & Stories|Nike, Inc|Shopping|
adidas: Shop Shoes & Clothing|adidas AG|Shopping|
Tripadvisor: Plan & Book Trips|Tripadvisor LLC|Travel|
Skyscanner – travel deals|Skyscanner Ltd|Travel|
Expedia: Hotels, Flights & Car|Expedia, Inc.|Travel|
Audible: Audio Entertainment|Audible, Inc.|Books|
Amazon Kindle|AMZN Mobile LLC|Books|
Wattpad - Read & Write Stories|Wattpad Corp|Books|
Twitch: Live Streaming|Twitch Interactive, Inc.|Entertainment|
Pokémon GO|Niantic, Inc.|Games|
Clash Royale|Supercell|Games|
Clash of Clans|Supercell|Games|
Brawl Stars|Supercell|Games|
Monopoly Go!|Scopely, Inc.|Games|
Among Us!|Innersloth LLC|Games|
Coin Master|Moon Active|Games|
Sudoku.com - Number Games|Easybrain|Games|
Solitaire Classic Card Game|MobilityWare|Games|
Paper.io 2|VOODOO|Games|
Helix Jump|VOODOO|Games|
Love Island USA|Fremantle|Entertainment|us
Bolt: Request a Ride|Bolt Technology OU|Travel|gb,de
Uber Eats|Uber Technologies, Inc.|Food & Drink|sg
Hotstar Sports|Star India Pvt. Ltd.|Sports|in
Airtel Thanks - Recharge & UPI|Bharti Airtel Limited|Utilities|in
MyJio: For Everything Jio|Reliance Jio Infocomm Limited|Utilities|in
"""


def _catalog() -> list[tuple[str, str, str, frozenset[str] | None]]:
    out = []
    for line in _CATALOG.strip().splitlines():
        name, artist, genre, where = line.split("|")
        out.append((name, artist, genre, frozenset(where.split(",")) if where else None))
    return out


def _app_id(name: str) -> str:
    """A stable 9-10 digit Apple id for a filler app (never one of the providers' ids)."""
    digest = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big")
    return str(300_000_000 + digest % 6_100_000_000)


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower().split(":")[0]).strip("-")


def _genre_id(genre: str) -> str:
    return str(6000 + int.from_bytes(hashlib.blake2b(genre.encode(), digest_size=2).digest(), "big") % 30)


class _Charts:
    def __init__(self, world: World):
        self.world = world
        self.catalog = _catalog()
        self.provider_apps = {}
        for provider in PROVIDERS:
            ps = world.setup.providers[provider]
            if ps.app_id:
                self.provider_apps[provider] = (ps.app_name, ps.app_id, {"anthropic": "Anthropic PBC",
                                                                         "openai": "OpenAI OpCo, LLC",
                                                                         "google": "Google"}[provider],
                                                "Productivity")
        reserved = {a[1] for a in self.provider_apps.values()}
        self.ids = [_app_id(name) for name, *_ in self.catalog]
        assert not reserved & set(self.ids), "a filler app id collides with a provider app id"
        world_days = days_between(min(WORLD_START, world.start), max(WORLD_END, world.end))
        self.day_index = {d: i for i, d in enumerate(world_days)}
        self.walks = {}
        for ci, country in enumerate(world.setup.countries):
            r = rng_for(world.seed, S_RANK_WALK, ci + 1)
            n_apps = len(self.catalog)
            base = -np.log1p(np.arange(n_apps)) * 1.2 + r.normal(0, 0.35, n_apps)
            local = np.array([0.0 if where is None else (1.1 if country in where else -np.inf)
                              for *_, where in self.catalog])
            shocks = r.normal(0, 0.08, (len(world_days), n_apps))
            walk = np.zeros_like(shocks)
            for i in range(1, len(world_days)):
                walk[i] = 0.93 * walk[i - 1] + shocks[i]
            self.walks[country] = base + local + walk

    def chart(self, day: dt.date, country: str) -> list[tuple[str, str, str, str]]:
        """100 (name, id, artist, genre) in rank order."""
        targets = self.world.ranks[(day, country)]
        placed: dict[int, tuple[str, str, str, str]] = {}
        for provider, rank in targets.items():
            if rank is not None and provider in self.provider_apps:
                placed[rank] = self.provider_apps[provider]
        scores = self.walks[country][self.day_index[day]]
        order = [k for k in np.argsort(-scores, kind="stable").tolist() if np.isfinite(scores[k])]
        fillers = iter((self.catalog[k][0], self.ids[k], self.catalog[k][1], self.catalog[k][2]) for k in order)
        return [placed[rank] if rank in placed else next(fillers) for rank in range(1, CHART_SIZE + 1)]


def _v2(country: str, apps: list[tuple[str, str, str, str]], fetched: dt.datetime) -> dict:
    url = f"https://rss.marketingtools.apple.com/api/v2/{country}/apps/{CHART}/{CHART_SIZE}/apps.json"
    results = []
    for name, app_id, artist, genre in apps:
        results.append({"artistName": artist, "id": app_id, "name": name, "releaseDate": "2023-05-18",
                        "kind": "apps", "artworkUrl100": f"https://is1-ssl.mzstatic.com/image/thumb/{app_id}/100x100bb.png",
                        "genres": [{"genreId": _genre_id(genre), "name": genre,
                                    "url": f"https://itunes.apple.com/{country}/genre/id{_genre_id(genre)}"}],
                        "url": f"https://apps.apple.com/{country}/app/{_slug(name)}/id{app_id}"})
    return {"feed": {"title": "Top Free Apps", "id": url,
                     "author": {"name": "Apple", "url": "https://www.apple.com/"},
                     "links": [{"self": url}], "copyright": "Copyright © 2026 Apple Inc. All rights reserved.",
                     "country": country, "icon": "https://www.apple.com/favicon.ico",
                     "updated": format_datetime(fetched), "results": results}}


def _legacy(country: str, apps: list[tuple[str, str, str, str]], fetched: dt.datetime) -> dict:
    entries = []
    for name, app_id, artist, genre in apps:
        url = f"https://apps.apple.com/{country}/app/{_slug(name)}/id{app_id}?uo=2"
        entries.append({
            "im:name": {"label": name},
            "im:image": [{"label": f"https://is1-ssl.mzstatic.com/image/thumb/{app_id}/{px}x{px}bb.png",
                          "attributes": {"height": str(px)}} for px in (53, 75, 100)],
            "im:price": {"label": "Get", "attributes": {"amount": "0.00000", "currency": "USD"}},
            "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
            "rights": {"label": f"© {artist}"},
            "title": {"label": f"{name} - {artist}"},
            "link": {"attributes": {"rel": "alternate", "type": "text/html", "href": url}},
            "id": {"label": url, "attributes": {"im:id": app_id, "im:bundleId": f"com.{_slug(artist)}.app"}},
            "im:artist": {"label": artist},
            "category": {"attributes": {"im:id": _genre_id(genre), "term": genre, "label": genre}},
            "im:releaseDate": {"label": "2023-05-18T00:00:00-07:00", "attributes": {"label": "May 18, 2023"}},
        })
    return {"feed": {"author": {"name": {"label": "iTunes Store"}, "uri": {"label": "http://www.apple.com/itunes/"}},
                     "entry": entries,
                     "updated": {"label": fetched.astimezone(PACIFIC).isoformat(timespec="seconds")},
                     "rights": {"label": "Copyright 2008 Apple Inc."},
                     "title": {"label": "iTunes Store: Top Free Applications"},
                     "icon": {"label": "http://itunes.apple.com/favicon.ico"},
                     "id": {"label": f"https://itunes.apple.com/{country}/rss/topfreeapplications/limit=100/json"}}}


def write_app_rankings(world: World, ledger: Ledger) -> None:
    charts = _Charts(world)
    for day in world.days:
        r = rng_for(world.seed, S_RANKS, 100, day.toordinal())
        bad_country = world.setup.countries[int(r.integers(0, len(world.setup.countries)))]
        bad_today = r.random() < 0.15  # about one malformed chart row a week
        legacy = day in LEGACY_DAYS
        for country in world.setup.countries:
            fetched = day_start(day) + dt.timedelta(hours=6, seconds=int(r.integers(0, 1800)))
            apps = charts.chart(day, country)
            doc = (_legacy if legacy else _v2)(country, apps, fetched)
            rows = doc["feed"]["entry"] if legacy else doc["feed"]["results"]
            name = f"{country}-{CHART}.json"
            if bad_today and country == bad_country:
                provider_ids = {a[1] for a in charts.provider_apps.values()}
                position = int(r.integers(20, CHART_SIZE))
                while apps[position][1] in provider_ids:
                    position = (position + 1) % CHART_SIZE
                del rows[position]["id"]  # a chart row without its app id
                ledger.mark_bad(SOURCE, ledger.rel(SOURCE, day.isoformat(), name), position + 1, "missing_id")
            ledger.write(SOURCE, (SOURCE, day.isoformat(), name), json.dumps(doc, ensure_ascii=False), len(rows))
