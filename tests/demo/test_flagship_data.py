"""The flagship demo's shipped data: the 2020 census population table and the offline province map."""

from __future__ import annotations

import csv
import io
import json
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import pytest

# 《第七次全国人口普查公报（第二号）》: the 31 mainland provinces plus active servicemen number 1,411,778,724;
# the 31 provinces alone (《公报（第三号）》, table 3-1) sum to 1,409,778,724, i.e. 2,000,000 servicemen.
NATIONAL_WITH_SERVICEMEN = 1_411_778_724
MAINLAND_31 = 1_409_778_724
HK_MACAO_TAIWAN = {810000: 7_474_200, 820000: 683_218, 710000: 23_561_236}


def data_file(name: str) -> Traversable:
    return files("rixin.demo") / "data" / name


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    text = data_file("population_2020.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def features() -> list[dict[str, Any]]:
    collection = json.loads(data_file("china_provinces.geojson").read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    feats: list[dict[str, Any]] = collection["features"]
    return feats


def test_csv_columns_and_rows(rows: list[dict[str, str]]) -> None:
    assert list(rows[0]) == ["province", "name_en", "adcode", "population"]
    assert len(rows) == 34
    assert len({r["adcode"] for r in rows}) == 34
    assert len({r["province"] for r in rows}) == 34
    assert len({r["name_en"] for r in rows}) == 34
    for r in rows:
        assert len(r["adcode"]) == 6 and r["adcode"].endswith("0000"), r
        assert r["population"].isdigit() and int(r["population"]) > 0, r
        assert r["province"].endswith(("省", "市", "自治区", "特别行政区")), r


def test_mainland_total(rows: list[dict[str, str]]) -> None:
    mainland = [r for r in rows if int(r["adcode"]) not in HK_MACAO_TAIWAN]
    assert len(mainland) == 31
    total = sum(int(r["population"]) for r in mainland)
    assert total == MAINLAND_31
    assert NATIONAL_WITH_SERVICEMEN - total == 2_000_000


def test_hong_kong_macao_taiwan(rows: list[dict[str, str]]) -> None:
    by_code = {int(r["adcode"]): int(r["population"]) for r in rows}
    for adcode, population in HK_MACAO_TAIWAN.items():
        assert by_code[adcode] == population


def test_map_features_match_csv(rows: list[dict[str, str]], features: list[dict[str, Any]]) -> None:
    names = [f["properties"]["name"] for f in features]
    assert len(features) == 34
    assert sorted(names) == sorted(r["province"] for r in rows)
    assert len(set(names)) == 34
    by_name = {r["province"]: r for r in rows}
    for f in features:
        props = f["properties"]
        row = by_name[props["name"]]
        assert props["adcode"] == int(row["adcode"])
        assert isinstance(props["adcode"], int)
        assert props["name_en"] == row["name_en"]


def test_map_geometry(features: list[dict[str, Any]]) -> None:
    for f in features:
        geom = f["geometry"]
        assert geom["type"] in ("Polygon", "MultiPolygon"), f["properties"]
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        assert polygons, f["properties"]
        for polygon in polygons:
            for ring in polygon:
                assert len(ring) >= 4 and ring[0] == ring[-1], f["properties"]
                for lon, lat in ring:
                    assert 73 <= lon <= 136 and 3 <= lat <= 54, (f["properties"], lon, lat)


def test_files_are_small() -> None:
    assert len(data_file("china_provinces.geojson").read_bytes()) <= 400_000
    assert len(data_file("population_2020.csv").read_bytes()) <= 4_000
