"""The HR platform's tables (SPEC §3.2) as SQLAlchemy metadata: one definition for the simulator
that writes the platform database, the tests that build one by hand, and the incremental loader."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, MetaData, Numeric, String, Table

from dagster_project.source_shapes import HR_TABLES

metadata = MetaData()


def _updated_at() -> Column:
    return Column("updated_at", DateTime, nullable=False, index=True)


jobseeker = Table(
    "jobseeker", metadata,
    Column("reg_id", String(32), primary_key=True),
    Column("id_number", String(18), nullable=False, index=True),
    Column("name", String(64)),
    Column("phone", String(20)),
    Column("county_code", String(6)),
    Column("registered_on", Date),
    Column("wants_employment", Boolean),
    _updated_at(),
)
employment_service = Table(
    "employment_service", metadata,
    Column("service_id", String(32), primary_key=True),
    Column("id_number", String(18), nullable=False, index=True),
    Column("service_type", String(32)),  # career_guidance | job_referral | training_referral
    Column("service_date", Date),
    _updated_at(),
)
training_record = Table(
    "training_record", metadata,
    Column("training_id", String(32), primary_key=True),
    Column("id_number", String(18), nullable=False, index=True),
    Column("program_name", String(128)),
    Column("training_mode", String(32)),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("completed", Boolean),
    _updated_at(),
)
skill_certificate = Table(
    "skill_certificate", metadata,
    Column("certificate_no", String(32), primary_key=True),
    Column("id_number", String(18), nullable=False, index=True),
    Column("certificate_type", String(64)),
    Column("occupation", String(64)),
    Column("issued_on", Date),
    _updated_at(),
)
public_welfare_post = Table(
    "public_welfare_post", metadata,
    Column("assignment_id", String(32), primary_key=True),
    Column("id_number", String(18), nullable=False, index=True),
    Column("county_code", String(6)),
    Column("post_type", String(64)),
    Column("start_date", Date),
    Column("end_date", Date),  # NULL while held
    Column("monthly_subsidy_yuan", Numeric(12, 2)),
    _updated_at(),
)
subsidy_payment = Table(
    "subsidy_payment", metadata,
    Column("payment_id", String(32), primary_key=True),
    Column("assignment_id", String(32), nullable=False, index=True),
    Column("period_month", String(7)),  # 'YYYY-MM'
    Column("amount_due_yuan", Numeric(12, 2)),
    Column("amount_paid_yuan", Numeric(12, 2)),
    Column("paid_on", Date),  # NULL if unpaid
    _updated_at(),
)
labor_brand_member = Table(
    "labor_brand_member", metadata,
    Column("member_id", String(32), primary_key=True),
    Column("id_number", String(18), nullable=False, index=True),
    Column("brand_name", String(64)),
    Column("county_code", String(6)),
    Column("joined_on", Date),
    _updated_at(),
)
rural_talent = Table(
    "rural_talent", metadata,
    Column("talent_id", String(32), primary_key=True),
    Column("id_number", String(18), nullable=False, index=True),
    Column("talent_type", String(32)),  # wealth_leader | rural_craftsman
    Column("county_code", String(6)),
    Column("township_name", String(64)),
    Column("village_name", String(64)),
    Column("certified_on", Date),
    _updated_at(),
)

# Fail at import if this metadata and SPEC's column lists (source_shapes.HR_TABLES) ever drift.
for _name, _cols in HR_TABLES.items():
    assert tuple(c.name for c in metadata.tables[_name].columns) == _cols, _name
