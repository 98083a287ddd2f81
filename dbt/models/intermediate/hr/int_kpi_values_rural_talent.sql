-- Long-format KPI values of the rural-talent family (SPEC §2, §2.3).
--   wealth_leader_village_share  villages with 脱贫人口 in the snapshot that have >= 3 致富带头人
--                                (wealth_leader, certified on or before the month end, counted in the
--                                village named by their rural_talent record) ÷ villages with 脱贫人口.
--   A village is county + 乡 + 村 name (int_villages_rolled_up); a region without such villages -> no_data.
--   rural_craftsmen              乡村工匠: distinct people with a rural_talent record of talent_type
--                                rural_craftsman certified on or before the month end (a certification
--                                does not expire), placed in the county of that record (whether or not
--                                they are 脱贫人口); numerator = the count, denominator NULL, actual = the
--                                count, NULL (no_data) where the region has no member of P in the
--                                snapshot (as trained_persons). No target.
-- Facts: marts.fct_rural_talent.
with craftsmen as (
    select s.as_of_month, a.ancestor_code as region_code, count(distinct t.person_key) as craftsmen
    from {{ ref('fct_rural_talent') }} as t
    inner join {{ ref('int_snapshots_listed') }} as s
        on t.certified_on <= s.month_end_date
    inner join {{ ref('int_region_ancestors') }} as a
        on a.descendant_code = t.county_code
    where t.talent_type = 'rural_craftsman'
    group by s.as_of_month, a.ancestor_code
)

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

union all

select
    s.as_of_month,
    s.region_code,
    'rural_craftsmen',
    cast(coalesce(c.craftsmen, 0) as {{ type_double() }}),
    cast(null as {{ type_double() }}),
    case when coalesce(p.population_p, 0) > 0 then cast(coalesce(c.craftsmen, 0) as {{ type_double() }}) end
from {{ ref('int_snapshot_regions_crossed') }} as s
left join craftsmen as c
    on c.as_of_month = s.as_of_month and c.region_code = s.region_code
left join {{ ref('int_members_rolled_up') }} as p
    on p.as_of_month = s.as_of_month and p.region_code = s.region_code
