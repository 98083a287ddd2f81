"""Issue 13 #6 on the real dbt marts of the HR scenario: published to PostgreSQL, every kind of
reader logs in over TCP with a password and reads every table and view of marts and marts_zh; no
row of another region is visible anywhere. In the issue a login in 昭通's role read trainings, services
and subsidies of people of other prefectures; here it sees exactly its own people's rows (paper values
from scenario.py: 昭通市 530600 = 镇雄县 Z 530627 = C1, C2 and X3)."""

from __future__ import annotations

import pytest

from dagster_project.serving import RoleNames, publish_postgres
from tests.serving import rls
from tests.serving.conftest import BiDatabase, bi_db  # noqa: F401  (the PostgreSQL fixture)

from . import scenario as sc
from .conftest import Published

pytestmark = pytest.mark.postgres

# Rows per county, worked out from scenario.py. Training / certificate / service: the person's export
# county (nobody moves); subsidy payment: the county of its post; the others: their own HR county.
EXPECTED_ROWS = {  # mart -> {W, L, Z}
    "fct_training": {sc.W: 4, sc.L: 2, sc.Z: 3},             # T1-T4 | T5 T6 | T7 T8 T9
    "fct_skill_certificate": {sc.W: 3, sc.L: 1, sc.Z: 1},    # Z1 Z2 Z5 | Z3 | Z4
    "fct_employment_service": {sc.W: 5, sc.L: 5, sc.Z: 0},   # V1-V5 (A3) | V6-V10 (B1) | -
    "fct_subsidy_payment": {sc.W: 5, sc.L: 1, sc.Z: 1},      # S1 S2 S3 (P1) S6 (P4) S7 (P2) | S4 (P5) | S5 (P3)
    "fct_public_welfare_post": {sc.W: 3, sc.L: 1, sc.Z: 1},  # P1 P2 P4 | P5 | P3
    "fct_labor_brand_member": {sc.W: 2, sc.L: 1, sc.Z: 2},   # LB1 LB5 | LB3 | LB2 LB4
    "fct_rural_talent": {sc.W: 3, sc.L: 4, sc.Z: 3},         # R1-R3 | R4-R7 | R8-R10
    "fct_jobseeker": {sc.W: 1, sc.L: 2, sc.Z: 1},            # J1 | J2 J3 | J4
    "fct_employment_duration": {sc.W: 8, sc.L: 4, sc.Z: 4},  # members x 2 years (2022, 2023)
    "fct_income_growth": {sc.W: 4, sc.L: 2, sc.Z: 2},        # households x 2 years
}


def test_real_marts_every_role_sees_only_its_region(hr_run: Published, bi_db: BiDatabase) -> None:  # noqa: F811
    hr_run.require_ok()
    published = publish_postgres(hr_run.warehouse, bi_db.url, role_prefix=bi_db.prefix)
    assert not published.unfiltered_tables or all(
        t not in EXPECTED_ROWS for t in published.unfiltered_tables)
    for mart in EXPECTED_ROWS:
        assert published.rls_tables[mart] == "prefecture_code", mart     # filtered on prefecture AND county
    roles = RoleNames(bi_db.prefix)
    marts = rls.published_marts(hr_run.warehouse)
    kinds = {
        "analyst": (roles.analyst, rls.analyst()),
        "province": (roles.province, rls.province()),
        "昭通市": (roles.prefecture(sc.ZT), rls.prefecture(sc.ZT, _counties(published, sc.ZT))),
        "昆明市": (roles.prefecture(sc.KM), rls.prefecture(sc.KM, _counties(published, sc.KM))),
        "五华区": (roles.county(sc.W), rls.county(sc.W, sc.KM)),
        "禄劝县": (roles.county(sc.L), rls.county(sc.L, sc.KM)),
        "镇雄县": (roles.county(sc.Z), rls.county(sc.Z, sc.ZT)),
    }
    owner = bi_db.connect()
    seen = {}
    try:
        for kind, (group, reach) in kinds.items():
            reader = bi_db.connect(*bi_db.login_member_of(group))
            try:
                seen[kind] = rls.assert_sees_only_its_region(owner, reader, reach, marts)
            finally:
                reader.close()
    finally:
        owner.close()
    # The reproduction: 昭通's login reads only 镇雄县's trainings, services and subsidies.
    zhaotong = bi_db.connect(*bi_db.login_member_of(roles.prefecture(sc.ZT)))
    try:
        with zhaotong.cursor() as cur:
            cur.execute("SELECT training_id FROM marts.fct_training")
            assert sorted(r[0] for r in cur.fetchall()) == ["T7", "T8", "T9"]
            cur.execute('SELECT count(*) FROM marts_zh.fct_employment_service')
            assert cur.fetchone() == (0,)
            cur.execute("SELECT payment_id, amount_paid_yuan FROM marts.fct_subsidy_payment")
            assert cur.fetchall() == [("S5", 1000)]
    finally:
        zhaotong.close()
    for mart, by_county in EXPECTED_ROWS.items():
        total = sum(by_county.values())
        for schema in ("marts", "marts_zh"):
            name = f"{schema}.{mart}"
            assert seen["province"][name] == seen["analyst"][name] == total, name
            assert seen["五华区"][name] == by_county[sc.W], name
            assert seen["禄劝县"][name] == by_county[sc.L], name
            assert seen["镇雄县"][name] == seen["昭通市"][name] == by_county[sc.Z], name
            assert seen["昆明市"][name] == by_county[sc.W] + by_county[sc.L], name


def _counties(published, prefecture: str) -> set[str]:
    """The counties of a prefecture, from the role names the publish created (all 129 counties)."""
    prefix = "_county_"
    return {r.rsplit(prefix, 1)[1] for r in published.roles
            if prefix in r and r.rsplit(prefix, 1)[1][:4] == prefecture[:4]}
