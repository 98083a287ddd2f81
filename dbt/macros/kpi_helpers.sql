{#- safe_ratio(num, den): num / den as a double, NULL when den is NULL or 0 (SPEC §2: a ratio with a
    zero denominator is NULL with status no_data). -#}
{% macro safe_ratio(numerator, denominator) -%}
    case when {{ denominator }} is null or {{ denominator }} = 0 then null
         else cast({{ numerator }} as {{ zengshou.type_double() }}) / cast({{ denominator }} as {{ zengshou.type_double() }}) end
{%- endmacro %}

{#- kpi_status: the ONE place where the scorecard status is decided.
      no_data   actual value is NULL (zero denominator, missing snapshot, nothing to measure)
      no_target the KPI has no target at this region level (e.g. trained_persons below province)
      met / not_met  actual <comparator> target
    no_data wins over no_target: "there was nothing to measure" is the more urgent signal. -#}
{% macro kpi_status(actual, target, comparator) -%}
    case
        when {{ actual }} is null then 'no_data'
        when {{ target }} is null or {{ comparator }} is null then 'no_target'
        when ({{ comparator }} = '>=' and {{ actual }} >= {{ target }})
          or ({{ comparator }} = '>'  and {{ actual }} >  {{ target }})
          or ({{ comparator }} = '<=' and {{ actual }} <= {{ target }})
          or ({{ comparator }} = '<'  and {{ actual }} <  {{ target }})
          or ({{ comparator }} = '='  and {{ actual }} =  {{ target }}) then 'met'
        else 'not_met'
    end
{%- endmacro %}

{#- Pace through the year (SPEC §2.1): the ONE place where progress_status is decided, in two parts.

    kpi_progress_target: the annual target pro-rated to month M of the snapshot, in the KPI's own unit,
    per the pace_rule of seeds/kpi_targets.csv (blank = as_status):
      prorated            target × M ÷ 12 (KPIs cumulative in Y: avg_employment_months, trained_persons);
                          exactly the target in December
      prior_year_to_date  target × (prior-year count up to month M ÷ prior-year count of the whole year):
                          for public_post_placements (holders of Y up to M ÷ holders of the whole of Y-1)
                          this is "holders of Y up to M >= holders of Y-1 up to the same month M";
                          equal to the target when the two prior-year counts are equal (always in December)
      as_status           the target itself
    kpi_progress_status: not_due before due_from_month (blank = 1) for a KPI with a target at this level;
      otherwise kpi_status of the actual value against the pro-rated target, renamed met -> on_track,
      not_met -> behind (no_target / no_data as in status). In December the pro-rated target equals the
      target and due_from_month <= 12, so both columns agree by construction. -#}
{% macro kpi_progress_target(target, pace_rule, month, prior_year_to_date='null', prior_year='null') -%}
    case
        when {{ target }} is null then null
        when {{ pace_rule }} = 'prorated' then
            case when {{ month }} >= 12 then {{ target }}
                 else cast({{ target }} as {{ zengshou.type_double() }}) * {{ month }} / 12 end
        when {{ pace_rule }} = 'prior_year_to_date' then
            case when {{ prior_year_to_date }} = {{ prior_year }} then {{ target }}
                 else {{ zengshou.safe_ratio(target ~ ' * ' ~ prior_year_to_date, prior_year) }} end
        else {{ target }}
    end
{%- endmacro %}

{% macro kpi_progress_status(actual, target, progress_target, comparator, due_from_month, month) -%}
    case
        when {{ target }} is not null and {{ comparator }} is not null
             and {{ month }} < coalesce({{ due_from_month }}, 1) then 'not_due'
        else
            case {{ zengshou.kpi_status(actual, progress_target, comparator) }}
                when 'met' then 'on_track'
                when 'not_met' then 'behind'
                when 'no_target' then 'no_target'
                else 'no_data'
            end
    end
{%- endmacro %}

{#- Portable "text starts with prefix" / "text contains part" (LIKE with concatenated wildcards;
    LIKE metacharacters do not occur in place names). NULL text -> NULL (treated as false). -#}
{% macro starts_with(text, prefix) -%}
    ({{ text }} like {{ dbt.concat([prefix, "'%'"]) }})
{%- endmacro %}

{% macro contains_text(text, part) -%}
    ({{ text }} like {{ dbt.concat(["'%'", part, "'%'"]) }})
{%- endmacro %}

{#- Cast an exported text number ('8', '8.0', ' 12 ') to integer; NULL when not a number. -#}
{% macro text_to_integer(expr) -%}
    {{ dbt.safe_cast(dbt.safe_cast("trim(cast(" ~ expr ~ " as " ~ dbt.type_string() ~ "))", "decimal(18,4)"), "integer") }}
{%- endmacro %}

{% macro text_to_decimal(expr, precision=18, scale=2) -%}
    {{ dbt.safe_cast("replace(trim(cast(" ~ expr ~ " as " ~ dbt.type_string() ~ ")), ',', '')", "decimal(" ~ precision ~ "," ~ scale ~ ")") }}
{%- endmacro %}

{#- Exported dates: 'YYYY-MM-DD', 'YYYY/M/D', 'YYYY.MM.DD', 'YYYYMMDD', optionally followed by a time;
    anything else (e.g. an Excel serial number) -> NULL. -#}
{% macro text_to_date(expr) -%}
    {%- set txt = "trim(cast(" ~ expr ~ " as " ~ dbt.type_string() ~ "))" -%}
    case
        when length({{ txt }}) = 8 and {{ dbt.safe_cast(txt, "integer") }} is not null
            then {{ dbt.safe_cast(dbt.concat(["substr(" ~ txt ~ ", 1, 4)", "'-'", "substr(" ~ txt ~ ", 5, 2)", "'-'", "substr(" ~ txt ~ ", 7, 2)"]), "date") }}
        else {{ dbt.safe_cast("replace(replace(substr(" ~ txt ~ ", 1, 10), '/', '-'), '.', '-')", "date") }}
    end
{%- endmacro %}

{#- 是/否 -> boolean; anything else NULL. -#}
{% macro yes_no_to_boolean(expr) -%}
    case trim(cast({{ expr }} as {{ dbt.type_string() }})) when '是' then true when '否' then false else null end
{%- endmacro %}

{#- The target of a KPI applies at a region level when its scope is 'all' or that level (e.g.
    trained_persons has a province-only target): one definition for every scorecard. -#}
{% macro applicable_target(target_expr, scope_expr, level_expr) -%}
    case when {{ scope_expr }} = 'all' or {{ scope_expr }} = {{ level_expr }} then {{ target_expr }} end
{%- endmacro %}

{#- Key-group labels (issue 3 §2, kpi_scorecard_by_group), the ONE place they are written:
      key_assistance_group  国家乡村振兴重点帮扶县 of the county: 是 (flag 1), 否 (not a former poverty
                            county: key assistance counties were designated only among former poverty
                            counties), 未知 (former poverty county with a blank flag, or county unknown).
                            Unknown is never turned into 否.
      relocated_group       易地扶贫搬迁户 of the household: 是 / 否 / 未知 (blank or no household row)
      category_group        监测对象类别 of the household; blank (or no household row) -> 非监测对象
    `county` is an int_regions_listed row (county level), `household` an int_households_deduplicated row. -#}
{% macro key_group_labels(county, household) -%}
    case
        when {{ county }}.is_key_assistance_county then '是'
        when {{ county }}.is_key_assistance_county = false or {{ county }}.is_former_poverty_county = false then '否'
        else '未知'
    end                                                                              as key_assistance_group,
    case {{ household }}.is_relocated when true then '是' when false then '否' else '未知' end as relocated_group,
    coalesce(nullif(trim({{ household }}.monitoring_category), ''), '非监测对象')      as category_group
{%- endmacro %}

{#- 返乡回流, the ONE rule (SPEC §2.3, kpi_scorecard_by_group, the early-warning list): a person who
    worked out of county (县外省内 / 省外 / 国外) in the earlier snapshot has come back when now not
    employed or working 县内. The caller says which earlier snapshot (prior year-end for the key
    groups, the previous snapshot of Y for the worklist) and passes that snapshot's is_out_of_county. -#}
{% macro has_returned(was_out_of_county, is_employed, work_region) -%}
    ({{ was_out_of_county }} and (not {{ is_employed }} or {{ work_region }} = '县内'))
{%- endmacro %}

{#- The members of population P and everyone else, with their HR status and key-group labels, for the
    snapshots where `where` (a condition on m.as_of_month) holds: the one person row the KPI models
    (int_kpi_measures, int_kpi_month_cells, int_members_year_end_out_of_county) read. Each of them
    builds rows of the months to rebuild only, so each joined table is also read for those months only
    (in_rebuild: a literal list of months, nothing on a full build): the joins' hash tables hold one
    month's HR links and households, not every month's kept. -#}
{% macro kpi_members(where='(1 = 1)') -%}
    select
        m.as_of_month,
        m.person_key,
        m.household_key,
        m.leaf_region_code,
        m.is_poverty_population,
        m.is_employed,
        m.months_worked,
        m.work_region,
        m.is_out_of_county,
        m.is_out_of_province,
        m.is_organised,
        m.is_yulu_graduate_of_year,
        hr.is_trained,
        hr.has_certificate_of_year,
        hr.holds_post_in_year,
        hr.held_post_prior_year,
        hr.held_post_prior_year_to_date,
        hr.is_labor_brand_member,
        hr.is_willing_unemployed,
        hr.received_131_services,
        {{ key_group_labels('c', 'h') }}
    from {{ ref('int_members_classified') }} as m
    left join {{ ref('int_members_hr_linked') }} as hr
        on hr.as_of_month = m.as_of_month and hr.person_key = m.person_key and {{ in_rebuild('hr.as_of_month') }}
    left join {{ ref('int_households_deduplicated') }} as h
        on h.as_of_month = m.as_of_month and h.household_key = m.household_key and {{ in_rebuild('h.as_of_month') }}
    left join (
        select region_code, is_former_poverty_county, is_key_assistance_county
        from {{ ref('int_regions_listed') }}
        where region_level = 'county'
    ) as c
        on c.region_code = m.county_code
    where {{ in_rebuild('m.as_of_month') }} and {{ where }}
{%- endmacro %}
