"""The groups a region is compared with, named from the data rather than assumed.

A region is ranked and normalised among the comparison regions of its *universe* (the register's
``universe`` column: the Russian subjects, the EU NUTS 2 regions of the register, or one country's
regions once a country has enough of them), and compared with the median of its *district* (a
federal district, or a NUTS 1 region). Both are named here from what the context says:

- a universe with its own name in the message catalog (``group_RU``, ``group_EU``) is called so;
  a universe that holds the regions of one country only is "the regions of <country>"; any other is
  called by its code. The number of regions always goes with it.
- a district is a comparison only when it holds at least :data:`MIN_DISTRICT_REGIONS` comparison
  regions: a region that is its own district (Saarland in the NUTS 1 region Saarland) has none, and
  its "district median" would be its own value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dagster_project.briefings.formatting import as_float, as_mapping, format_int
from dagster_project.briefings.messages import Say, localised

MIN_DISTRICT_REGIONS = 2


@dataclass(frozen=True)
class Groups:
    """How one briefing names its comparison group and district, in its language."""

    group: str  # "Russian regions" / "регионы России"
    group_of: str  # after "of N": "Russian regions" / "регионов России"
    group_size: str  # "85" (formatted), or "" when unknown
    district: str  # the district's name, or "" when it is no comparison
    district_label: str  # "Federal district" / "NUTS 1 region"
    district_comparable: bool
    country: str
    country_in_phrase: str


def groups(context: Mapping[str, Any], say: Say) -> Groups:
    region = as_mapping(context.get("region"))
    lang = say.lang
    country = localised(region, "country_name", lang, fallback=region.get("country"))
    # the country as it reads inside "regions of …" (English wants "the Russian Federation")
    in_phrase = say.t.get(f"country_phrase_{region.get('country')}", country)
    universe = str(region.get("universe") or "")
    countries = [str(c) for c in region.get("universe_countries") or []]
    if f"group_{universe}" in say.t:
        group, group_of = say.t[f"group_{universe}"], say.t[f"group_{universe}_of"]
    elif countries and countries == [str(region.get("country"))]:
        group, group_of = say("group_country", country=in_phrase), say("group_country_of", country=in_phrase)
    elif universe:
        group, group_of = say("group_code", code=universe), say("group_code_of", code=universe)
    else:
        group, group_of = say.t["group_unknown"], say.t["group_unknown_of"]
    size = as_float(region.get("universe_regions"))
    comparable = (as_float(region.get("district_regions")) or 0) >= MIN_DISTRICT_REGIONS
    level = str(region.get("district_level") or "district")
    return Groups(
        group=group,
        group_of=group_of,
        group_size=format_int(size, lang) if size else "",
        district=localised(region, "district_name", lang, fallback="") if comparable else "",
        district_label=say.t.get(f"district_level_{level}", say.t["district_level_district"]),
        district_comparable=comparable,
        country=country,
        country_in_phrase=in_phrase,
    )
