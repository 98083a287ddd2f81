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
  Built from int_person_county_changes (incremental), not from every snapshot's person rows.
-#}
-- The change rows hold the first snapshot of each person and every snapshot whose county differs from
-- the one before: each starts a spell (the first one has no valid_from), and lasts to the next.
with starts as (
    select
        person_key, county_code, prefecture_code, as_of_month as first_as_of_month,
        row_number() over (partition by person_key order by as_of_month) as spell_rank
    from {{ ref('int_person_county_changes') }}
)

select
    cast(person_key as {{ dbt.type_string() }})                          as person_key,
    cast(county_code as {{ dbt.type_string() }})                         as county_code,
    cast(prefecture_code as {{ dbt.type_string() }})                     as prefecture_code,
    cast(first_as_of_month as date)                                      as first_as_of_month,
    cast(case when spell_rank = 1 then null else first_as_of_month end as date) as valid_from,
    cast(lead(first_as_of_month) over (partition by person_key order by first_as_of_month) as date)
                                                                         as valid_to
from starts
