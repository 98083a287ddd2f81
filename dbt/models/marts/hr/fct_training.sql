-- One row per HR-platform training record (SPEC §3.2 training_record; the loader keeps the newest
-- updated_at per training_id, so a later correction of `completed` wins). Basis of trained_persons,
-- certified_rate and post_training_employment_rate: a training counts for snapshot (Y, M) when it
-- is completed and its end_date is in Y and on or before the snapshot's month end.
-- county_code / prefecture_code: the person's county in the monitoring system on the training's
-- end_date (start_date when it has none), by the rule of int_person_county_spells; NULL when the
-- person was never exported (row-level security then shows the row to province/analyst roles only).
with trainings as (
    select * from {{ ref('stg_hr__training_record') }}
)

select
    t.training_id,
    t.person_key,
    sp.county_code,
    sp.prefecture_code,
    t.program_name,
    t.training_mode,
    t.start_date,
    t.end_date,
    cast(extract(year from t.end_date) as integer)             as end_year,
    coalesce(t.completed, false)                               as is_completed
from trainings as t
left join {{ ref('int_person_county_spells') }} as sp
    on {{ in_county_spell('sp', 't.person_key', 'cast(coalesce(t.end_date, t.start_date) as date)') }}
