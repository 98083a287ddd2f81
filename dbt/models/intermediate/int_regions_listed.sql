-- The 146 regions of the scorecard: the province (530000), its 16 prefectures and 129 counties.
-- County flags come from yunnan_county_flags; is_key_assistance_county blank = unknown stays NULL
-- (never 0). Flags do not apply to the province or prefectures (NULL).
with counties as (
    select * from {{ ref('yunnan_counties') }}
),

flags as (
    select * from {{ ref('yunnan_county_flags') }}
)

select distinct
    province_code                   as region_code,
    'province'                      as region_level,
    province_name_zh                as region_name,
    cast(null as {{ dbt.type_string() }}) as parent_code,
    cast(null as boolean)           as is_former_poverty_county,
    cast(null as boolean)           as is_key_assistance_county
from counties

union all

select distinct
    prefecture_code,
    'prefecture',
    prefecture_name_zh,
    province_code,
    cast(null as boolean),
    cast(null as boolean)
from counties

union all

select
    c.county_code,
    'county',
    c.county_name_zh,
    c.prefecture_code,
    case f.is_former_poverty_county when 1 then true when 0 then false end,
    case f.is_key_assistance_county when 1 then true when 0 then false end
from counties as c
left join flags as f
    on f.county_code = c.county_code
