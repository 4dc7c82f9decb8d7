-- What a deployment should have set, checked: the preload, statement
-- logging that could write personal data, background workers for logged
-- reads, the database encoding.  README, "Deployment".
create function refuge.deployment_check()
    returns table (setting text, value text, recommended text, ok boolean, why text)
    language sql stable
    set search_path = pg_catalog, pg_temp
begin atomic
    select 'shared_preload_libraries', case when refuge.preloaded() then 'includes refuge' else 'without refuge' end,
           'includes refuge', refuge.preloaded(),
           'superuser-only settings (the vault key file) hidden from the start; the vault opens only then'
    union all
    select 'log_statement', current_setting('log_statement'), 'none or ddl',
           current_setting('log_statement') in ('none', 'ddl'),
           'all and mod write every statement, personal data included, to the server log'
    union all
    select 'log_min_error_statement', current_setting('log_min_error_statement'), 'panic',
           current_setting('log_min_error_statement') = 'panic',
           'refuge hides failed API calls; other failed statements are logged with their text'
    union all
    select 'log_parameter_max_length_on_error', current_setting('log_parameter_max_length_on_error'), '0',
           current_setting('log_parameter_max_length_on_error') = '0',
           'bind values of failed statements would be logged'
    union all
    select 'max_worker_processes', current_setting('max_worker_processes'), 'at least 8 more than the parallel workers',
           current_setting('max_worker_processes')::integer >= current_setting('max_parallel_workers')::integer + 8,
           'every logged read needs a background worker for a moment; none free means the read is refused'
    union all
    select 'idle_in_transaction_session_timeout', current_setting('idle_in_transaction_session_timeout'), '1min to 1h',
           (select x.setting::bigint between 60000 and 3600000 from pg_catalog.pg_settings x
             where x.name = 'idle_in_transaction_session_timeout'),
           'refuge.seal_audit() seals only what no open transaction can still add to; a session left idle in a transaction holds the seal back'
    union all
    select 'server_encoding', current_setting('server_encoding'), 'UTF8', current_setting('server_encoding') = 'UTF8',
           'names in every script; identifiers and names are checked as Unicode';
end;
comment on function refuge.deployment_check() is
    'the settings a refuge deployment should have (README, Deployment): value, recommendation, whether it holds, and why';
