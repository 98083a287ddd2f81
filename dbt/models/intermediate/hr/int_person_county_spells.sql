{#-
  Where a person lives, as the monitoring system says, in spells: one row per person × run of
  consecutive snapshots in the same county (most people have one spell). It places the HR-platform
  rows that carry no county of their own (training, certificates, employment services) in a region,
  so row-level security can filter them (issue 13 #6).

  Rule (macro in_county_spell): an HR row dated D belongs to the person's county in the LATEST
  snapshot on or before D (as_of_month <= D: a row dated 2023-03-15 is placed by the 2023-03
  snapshot). A row dated before the person's first snapshot takes the county of that first snapshot
  (valid_from is NULL on the first spell); a row without a date takes the latest county (valid_to
  is NULL on the last spell). People never in the monitoring export have no spell: their HR rows
  have county_code NULL and are visible only to the province and analyst roles.
  The county of a snapshot is the one of int_members_classified (a person exported twice in one
  snapshot keeps the first row), prefecture_code as there (the reference seed's, else the export's).
-#}
with snapshots as (
    select person_key, as_of_month, county_code, prefecture_code
    from {{ ref('int_members_classified') }}
    where person_key is not null
),

marked as (
    select
        *,
        lag(county_code) over (partition by person_key order by as_of_month)     as previous_county_code,
        row_number() over (partition by person_key order by as_of_month)         as snapshot_rank
    from snapshots
),

starts as (
    select person_key, county_code, prefecture_code, as_of_month as first_as_of_month, snapshot_rank
    from marked
    where snapshot_rank = 1 or previous_county_code is distinct from county_code
)

select
    cast(person_key as {{ dbt.type_string() }})                          as person_key,
    cast(county_code as {{ dbt.type_string() }})                         as county_code,
    cast(prefecture_code as {{ dbt.type_string() }})                     as prefecture_code,
    cast(first_as_of_month as date)                                      as first_as_of_month,
    cast(case when snapshot_rank = 1 then null else first_as_of_month end as date) as valid_from,
    cast(lead(first_as_of_month) over (partition by person_key order by first_as_of_month) as date)
                                                                         as valid_to
from starts
