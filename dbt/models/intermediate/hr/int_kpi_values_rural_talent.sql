-- Long-format KPI values of the rural-talent family (SPEC §2).
--   wealth_leader_village_share  villages with 脱贫人口 in the snapshot that have >= 3 致富带头人
--                                (wealth_leader, certified on or before the month end, counted in the
--                                village named by their rural_talent record) ÷ villages with 脱贫人口.
--   A village is county + 乡 + 村 name (int_villages_rolled_up); a region without such villages -> no_data.
-- Facts: marts.fct_rural_talent.
select
    s.as_of_month,
    s.region_code,
    'wealth_leader_village_share'                                         as kpi_code,
    cast(coalesce(v.villages_with_3_leaders, 0) as {{ type_double() }})   as numerator,
    cast(coalesce(v.villages_with_p, 0) as {{ type_double() }})           as denominator,
    {{ safe_ratio('coalesce(v.villages_with_3_leaders, 0)', 'coalesce(v.villages_with_p, 0)') }} as actual_value
from {{ ref('int_snapshot_regions_crossed') }} as s
left join {{ ref('int_villages_rolled_up') }} as v
    on v.as_of_month = s.as_of_month and v.region_code = s.region_code
