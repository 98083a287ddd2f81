{{ staging_by_month_config('monitoring_households') }}
-- Incremental by snapshot month: a month is (re)hashed only when its published batch_id is new
-- (the loader replaces a month's rows with a new batch), or when the HMAC key changed (the stored
-- key_fingerprint differs: every month is rebuilt, so keys never mix): macros/months_to_stage.sql.
-- Its pre-hook deletes those months, then their rows are inserted. `dbt build --full-refresh` rebuilds everything. meta
-- zengshou_partition: its data tests look at the months the build rebuilt (macros/get_where_subquery.sql).
-- One row per household row of each published monthly snapshot (SPEC §3.1), typed.
-- household_key = keyed_hash(county_code || '|' || 户编号): 户编号 is the monitoring system's
-- permanent household number, so the key is stable across monthly loads and years. 户主证件号码 is
-- NOT used (the head changes on death / household split, and it is personal data); it and 户主姓名
-- are dropped here.
with source as (
    select * from {{ source('raw', 'monitoring_households') }}
    where {{ months_condition('as_of_month', months_to_stage('monitoring_households')) }}
)

select
    cast(as_of_month as date)                                          as as_of_month,
    {{ text_to_integer('year') }}                                      as year,
    batch_id,
    cast(source_row as bigint)                                         as source_row,
    {{ keyed_hash(dbt.concat(["county_code", "'|'", "household_id"])) }} as household_key,
    cast(county_code as {{ dbt.type_string() }})                       as county_code,
    cast(prefecture_code as {{ dbt.type_string() }})                   as prefecture_code,
    province_name,
    prefecture_name,
    county_name,
    township_name,
    village_name,
    household_id,
    household_type,
    monitoring_category,
    {{ yes_no_to_boolean('is_relocated') }}                            as is_relocated,
    {{ text_to_integer('household_size') }}                            as household_size,
    {{ text_to_decimal('wage_income_yuan') }}                          as wage_income_yuan,
    {{ text_to_decimal('business_income_yuan') }}                      as business_income_yuan,
    {{ text_to_decimal('transfer_income_yuan') }}                      as transfer_income_yuan,
    {{ text_to_decimal('property_income_yuan') }}                      as property_income_yuan,
    extra_fields,
    {{ key_fingerprint() }}                                             as key_fingerprint
from source

