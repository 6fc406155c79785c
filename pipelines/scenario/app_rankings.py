"""App Store top-free charts: raw/app_rankings/<YYYY-MM-DD>/<country>-<chart>.json, 100 apps each.

The three providers' apps (config app names and ids) sit at the ranks the world plans (app_charts.py). Most
days are Apple RSS v2 (`feed.results[]`, rank = position + 1); LEGACY_DAYS are written in the legacy iTunes
RSS shape (`feed.entry[]`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from email.utils import format_datetime

from pipelines.scenario.app_charts import CHART_SIZE, App, Charts
from pipelines.scenario.dates import day_start, pacific_iso
from pipelines.scenario.output import Ledger
from pipelines.scenario.rng import S_RANKS, rng_for
from pipelines.scenario.world import World

SOURCE = "app_rankings"
CHART = "top-free"
LEGACY_DAYS = (dt.date(2025, 12, 14), dt.date(2026, 1, 25), dt.date(2026, 3, 4))


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower().split(":")[0]).strip("-")


def _genre_id(genre: str) -> str:
    return str(6000 + int.from_bytes(hashlib.blake2b(genre.encode(), digest_size=2).digest(), "big") % 30)


def _v2(country: str, apps: list[App], fetched: dt.datetime) -> dict:
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


def _legacy_entry(country: str, app: App) -> dict:
    name, app_id, artist, genre = app
    url = f"https://apps.apple.com/{country}/app/{_slug(name)}/id{app_id}?uo=2"
    return {
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
    }


def _legacy(country: str, apps: list[App], fetched: dt.datetime) -> dict:
    return {"feed": {"author": {"name": {"label": "iTunes Store"}, "uri": {"label": "http://www.apple.com/itunes/"}},
                     "entry": [_legacy_entry(country, app) for app in apps],
                     "updated": {"label": pacific_iso(fetched)},
                     "rights": {"label": "Copyright 2008 Apple Inc."},
                     "title": {"label": "iTunes Store: Top Free Applications"},
                     "icon": {"label": "http://itunes.apple.com/favicon.ico"},
                     "id": {"label": f"https://itunes.apple.com/{country}/rss/topfreeapplications/limit=100/json"}}}


def write_app_rankings(world: World, ledger: Ledger) -> None:
    """Every country's chart of every day, in the day folder and with the fetch time of the shifted calendar."""
    charts = Charts(world)
    for day in world.days:
        folder = world.shift.day_iso(day)
        r = rng_for(world.seed, S_RANKS, 100, day.toordinal())
        bad_country = world.setup.countries[int(r.integers(0, len(world.setup.countries)))]
        bad_today = r.random() < 0.15  # about one malformed chart row a week
        legacy = day in LEGACY_DAYS
        for country in world.setup.countries:
            fetched = world.shift.moment(day_start(day) + dt.timedelta(hours=6, seconds=int(r.integers(0, 1800))))
            apps = charts.chart(day, country)
            doc = (_legacy if legacy else _v2)(country, apps, fetched)
            rows = doc["feed"]["entry"] if legacy else doc["feed"]["results"]
            name = f"{country}-{CHART}.json"
            if bad_today and country == bad_country:
                provider_ids = charts.provider_ids()
                position = int(r.integers(20, CHART_SIZE))
                while apps[position][1] in provider_ids:
                    position = (position + 1) % CHART_SIZE
                del rows[position]["id"]  # a chart row without its app id
                ledger.mark_bad(SOURCE, ledger.rel(SOURCE, folder, name), position + 1, "missing_id")
            ledger.write(SOURCE, (SOURCE, folder, name), json.dumps(doc, ensure_ascii=False), len(rows))
