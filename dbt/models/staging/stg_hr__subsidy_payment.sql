-- HR platform subsidy_payment (SPEC §3.2): one row per primary key (the loader keeps the newest updated_at).
-- The payment rows carry no personal data (they reference assignment_id).
select
    cast(payment_id as {{ dbt.type_string() }})                     as payment_id,
    cast(assignment_id as {{ dbt.type_string() }})                     as assignment_id,
    cast(period_month as {{ dbt.type_string() }})                      as period_month,
    {{ dbt.safe_cast(dbt.concat(['period_month', "'-01'"]), 'date') }}  as period_start,
    cast(amount_due_yuan as decimal(12,2))                             as amount_due_yuan,
    cast(amount_paid_yuan as decimal(12,2))                            as amount_paid_yuan,
    cast(paid_on as date)                                              as paid_on,
    cast(updated_at as {{ dbt.type_timestamp() }})                     as updated_at,
    cast(_loaded_at as {{ dbt.type_timestamp() }})                     as _loaded_at
from {{ source('raw', 'hr_subsidy_payment') }}
