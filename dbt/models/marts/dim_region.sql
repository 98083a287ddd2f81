-- Region dimension: province 530000, 16 prefectures, 129 counties (NBS 2023 codes).
select
    cast(region_code as {{ dbt.type_string() }})              as region_code,
    cast(region_level as {{ dbt.type_string() }})             as region_level,
    cast(region_name as {{ dbt.type_string() }})              as region_name,
    cast(parent_code as {{ dbt.type_string() }})              as parent_code,
    cast(is_former_poverty_county as boolean)                 as is_former_poverty_county,
    cast(is_key_assistance_county as boolean)                 as is_key_assistance_county
from {{ ref('int_regions_listed') }}
