{{ staging_by_month_config('monitoring_members') }}
-- Incremental by snapshot month: a month is (re)hashed only when its published batch_id is new
-- (the loader replaces a month's rows with a new batch), or when the HMAC key changed (the stored
-- key_fingerprint differs: every month is rebuilt, so keys never mix): macros/months_to_stage.sql.
-- Its pre-hook deletes those months, then their rows are inserted. `dbt build --full-refresh` rebuilds everything. meta
-- zengshou_partition: its data tests look at the months the build rebuilt (macros/get_where_subquery.sql).
-- One row per member row of each published monthly snapshot (SPEC §3.1), typed.
-- 证件号码 is replaced by person_key (HMAC-SHA256); 姓名 and 户联系电话 are dropped here and never
-- leave staging. birth_date is reduced to birth_year (a full birth date is quasi-identifying).
-- `not materialized`: read twice (rows, distinct households) rather than copied whole into a temp CTE.
with source as not materialized (
    select * from {{ source('raw', 'monitoring_members') }}
    where {{ months_condition('as_of_month', months_to_stage('monitoring_members')) }}
),

-- household_key once per household of the months built, not once per member row (≈ 3 members a
-- household; every month of a full refresh). From the members themselves, not the household file:
-- a member's household row may have been quarantined (int_members_without_household). A NULL
-- county_code or 户编号 finds no key, as hashing NULL gives NULL.
household_keys as (
    {{ household_keys('source') }}
)

select
    cast(as_of_month as date)                                          as as_of_month,
    {{ text_to_integer('year') }}                                      as year,
    batch_id,
    cast(source_row as bigint)                                         as source_row,
    {{ person_key('id_number') }}                                      as person_key,
    cast(county_code as {{ dbt.type_string() }})                       as county_code,
    cast(prefecture_code as {{ dbt.type_string() }})                   as prefecture_code,
    province_name,
    prefecture_name,
    county_name,
    township_name,
    village_name,
    household_id,
    k.household_key,
    person_id,
    sex,
    {{ dbt.safe_cast("substr(trim(birth_date), 1, 4)", "integer") }}   as birth_year,
    id_type,
    relation_to_head,
    education,
    student_status,
    labor_skill,
    {{ text_to_integer('months_worked') }}                             as months_worked,
    employer_name,
    {{ yes_no_to_boolean('is_abroad') }}                               as is_abroad,
    public_post_type,
    {{ text_to_integer('public_post_months') }}                        as public_post_months,
    employment_channel,
    work_location,
    {{ text_to_integer('yulu_graduation_year') }}                      as yulu_graduation_year,
    extra_fields,
    {{ key_fingerprint() }}                                             as key_fingerprint
from source
left join household_keys as k
    on k.key_county_code = source.county_code and k.key_household_id = source.household_id
