"""Row rules of SPEC §3.1: each bad row is quarantined with its rule, nothing is lost, the KPIs don't move.

The 2023-03 exports of the main scenario get bad rows appended (new people / a new household, so the
paper values of the good rows still hold). ZENGSHOU_MAX_REJECT_RATE is raised so the batch publishes.
"""

from __future__ import annotations

import pytest

from . import scenario as sc
from .checks import mismatches, report
from .conftest import Published, new_scenario
from .landing import break_checksum, make_id
from .pipeline import query, rejected_rows, run_pipeline

pytestmark = pytest.mark.slow

MONTH = "2023-03"
A5 = sc.PEOPLE["A5"]  # template: a 五华区 person in H2 who does not work


def _bad(name: str, seq: int, **override: str) -> dict[str, str]:
    row = sc.member_row(A5, MONTH, 姓名=name, 证件号码=make_id(sc.W, "19900101", seq),
                        人口编号=f"{sc.household_id('H2')}9{seq:02d}")
    row.update(override)
    return row


GOOD_MEMBERS = sc.members_rows(MONTH)  # 15 rows -> source_row 1..15
X_ID = make_id(sc.W, "19900101", 31)
# (rule, row) in file order after the good rows; each row breaks exactly one rule.
BAD_MEMBERS: list[tuple[str, dict[str, str]]] = [
    ("id_checksum", _bad("甲校验", 11, 证件号码=break_checksum(make_id(sc.W, "19900101", 11)))),
    ("months_out_of_range", _bad("乙十三", 13, **{"务工时间（月）": "13", "务工所在地": "广东省深圳市",
                                               "务工企业名称": "某厂", "就业渠道": "企业招聘"})),
    ("unknown_county", _bad("丙无县", 15, 县="无此县")),
    ("work_location_rule", _bad("丁无地", 17, **{"务工时间（月）": "2", "务工所在地": "",
                                              "就业渠道": "亲友介绍"})),
    ("work_location_rule", _bad("戊有地", 19, **{"务工时间（月）": "0", "务工所在地": "广东省深圳市"})),
    ("duplicate_person_year", _bad("己重复", 31, 证件号码=X_ID, 人口编号="dup-1")),
    ("duplicate_person_year", _bad("己重复", 31, 证件号码=X_ID, 人口编号="dup-2")),
    ("invalid_code", _bad("庚壮劳", 23, 劳动技能="壮劳力")),
]
GOOD_HOUSEHOLDS = sc.households_rows(MONTH)  # 6 rows
BAD_HOUSEHOLD = sc.household_row("H2", MONTH, 户编号="5301020010019999", 户主姓名="辛贫困",
                                 户主证件号码=make_id(sc.W, "19700101", 41), 户类型="贫困户")


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory: pytest.TempPathFactory) -> Published:
    scenario, landing = new_scenario(tmp_path_factory.mktemp("badrows"), ZENGSHOU_MAX_REJECT_RATE="0.5")
    sc.build(landing)
    landing.write_members(MONTH, GOOD_MEMBERS + [r for _rule, r in BAD_MEMBERS])  # 8/23 = 35 % rejected
    landing.write_households(MONTH, [*GOOD_HOUSEHOLDS, BAD_HOUSEHOLD])            # 1/7 = 14 % rejected
    return Published(scenario, landing, run_pipeline(scenario))


@pytest.fixture(scope="module")
def quarantined(bad_run: Published) -> list[dict]:
    bad_run.require_ok()
    return rejected_rows(bad_run.warehouse)


def _batch(bad_run: Published, kind: str) -> dict:
    rows = [b for b in query(bad_run.warehouse, "select * from meta.load_batches")
            if str(b["file_path"]).replace("\\", "/").endswith(f"monitoring/{MONTH}/{kind}.csv")]
    assert len(rows) == 1, rows
    return rows[0]


def test_run_publishes_under_raised_reject_rate(bad_run: Published) -> None:
    bad_run.require_ok()


@pytest.mark.parametrize("idx", range(len(BAD_MEMBERS)), ids=[f"{i}-{r}" for i, (r, _) in enumerate(BAD_MEMBERS)])
def test_bad_member_row_quarantined(bad_run: Published, quarantined: list[dict], idx: int) -> None:
    rule, row = BAD_MEMBERS[idx]
    source_row = len(GOOD_MEMBERS) + idx + 1
    batch = _batch(bad_run, "members")
    hits = [q for q in quarantined if q["batch_id"] == batch["batch_id"] and q["source_row"] == source_row]
    assert len(hits) == 1, f"row {source_row} ({rule}) not quarantined once in batch {batch['batch_id']}: {hits}"
    q = hits[0]
    assert q["rule"] == rule, q
    assert "member" in str(q["source"]).lower(), q
    assert q["reason"] and "\n" not in q["reason"].strip(), q
    orig = q["original"]
    assert isinstance(orig, dict), q
    for header in ("证件号码", "务工时间（月）", "县", "劳动技能", "务工所在地"):
        assert header in orig, (header, orig)  # the original header, as exported
        assert (orig[header] or "") == row[header], (header, orig)  # an empty cell may be JSON null


def test_all_duplicate_copies_quarantined(quarantined: list[dict]) -> None:
    dups = [q for q in quarantined if q["original"].get("证件号码") == X_ID]
    assert len(dups) == 2 and {q["rule"] for q in dups} == {"duplicate_person_year"}, dups


def test_bad_household_quarantined(bad_run: Published, quarantined: list[dict]) -> None:
    batch = _batch(bad_run, "households")
    hits = [q for q in quarantined if q["batch_id"] == batch["batch_id"]]
    assert len(hits) == 1, hits
    q = hits[0]
    assert q["rule"] == "invalid_code" and q["source_row"] == len(GOOD_HOUSEHOLDS) + 1, q
    assert "household" in str(q["source"]).lower(), q
    assert q["original"].get("户类型") == "贫困户" and q["original"].get("户编号") == "5301020010019999", q


def test_nothing_lost(bad_run: Published, quarantined: list[dict]) -> None:
    bad_run.require_ok()
    members, households = _batch(bad_run, "members"), _batch(bad_run, "households")
    assert (members["rows_read"], members["rows_loaded"], members["rows_quarantined"]) == (23, 15, 8), members
    assert (households["rows_read"], households["rows_loaded"], households["rows_quarantined"]) == (7, 6, 1)
    for b in query(bad_run.warehouse, "select * from meta.load_batches"):
        assert b["rows_read"] == b["rows_loaded"] + b["rows_quarantined"], b
        n = sum(1 for q in quarantined if q["batch_id"] == b["batch_id"])
        assert n == b["rows_quarantined"], (b, n)
    assert members["status"] == "published" and households["status"] == "published"
    raw = query(bad_run.warehouse, "select count(*) n from raw.monitoring_members where as_of_month = ?",
                [sc.AS_OF[MONTH]])
    assert raw[0]["n"] == 15


def test_bad_rows_do_not_move_the_kpis(bad_run: Published) -> None:
    from .pipeline import scorecard

    bad_run.require_ok()
    card = scorecard(bad_run.warehouse)
    lines = [ln for k in sc.KPIS for ln in mismatches(card, sc.AS_OF[MONTH], k)]
    assert not lines, report(lines)


def test_no_bad_row_reaches_marts(bad_run: Published) -> None:
    from .test_privacy_and_formats import _pii_hits

    bad_run.require_ok()
    extra = {r[k] for _rule, r in BAD_MEMBERS for k in ("证件号码", "姓名")}
    extra |= {BAD_HOUSEHOLD["户主证件号码"], BAD_HOUSEHOLD["户主姓名"]}
    assert not _pii_hits(bad_run.warehouse, extra)
    n = query(bad_run.warehouse, "select count(*) n from marts.fct_employment_duration where year = 2023")
    assert n[0]["n"] == 15
