-- One row per HR-platform training record (SPEC §3.2 training_record; the loader keeps the newest
-- updated_at per training_id, so a later correction of `completed` wins). Basis of trained_persons,
-- certified_rate and post_training_employment_rate: a training counts for snapshot (Y, M) when it
-- is completed and its end_date is in Y and on or before the snapshot's month end.
select
    cast(training_id as {{ dbt.type_string() }})               as training_id,
    cast(person_key as {{ dbt.type_string() }})                as person_key,
    cast(program_name as {{ dbt.type_string() }})              as program_name,
    cast(training_mode as {{ dbt.type_string() }})             as training_mode,
    cast(start_date as date)                                   as start_date,
    cast(end_date as date)                                     as end_date,
    cast(extract(year from end_date) as integer)               as end_year,
    cast(coalesce(completed, false) as boolean)                as is_completed
from {{ ref('stg_hr__training_record') }}
