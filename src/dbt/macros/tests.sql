{#- Generic tests on feature_view models (and their columns).  Each returns
    the failing rows; dbt fails the test when there is any. -#}

{#- The target's feature view of the model under test and its serving version
    (raises when it has none). -#}
{% macro _tested_view(model) -%}
  {%- set node = feature_store._node_for_relation(model) -%}
  {%- set name = feature_store.feature_view_name(node if node is not none else model.identifier) -%}
  {%- set rows = [] -%}
  {%- if feature_store.extension_installed() -%}
    {%- set rows = run_query("select version, history_relation::text, ts_column, key_column from fs.feature_views where serving and name = "
                              ~ feature_store.lit(name)).rows -%}
  {%- endif -%}
  {%- if rows | length == 0 -%}
    {%- if flags.WHICH in ('run', 'build', 'test') -%}
      {{ exceptions.raise_compiler_error("feature_store: feature view " ~ name ~ " of " ~ model
          ~ " has no materialized version in target '" ~ target.name ~ "'") }}
    {%- endif -%}
    {#- dbt compile on a database without it: the test's shape, on a placeholder -#}
    {%- set ts = node.config.get('event_time') if node is not none else none -%}
    {%- set key = node.config.get('key_column') if node is not none else none -%}
    {{ return({'view': name, 'version': 0, 'history': 'fs_data.' ~ adapter.quote(name ~ '_v0'), 'ts': ts or 'ts',
               'key': key or 'key'}) }}
  {%- endif -%}
  {{ return({'view': name, 'version': rows[0][0], 'history': rows[0][1], 'ts': rows[0][2], 'key': rows[0][3]}) }}
{%- endmacro %}

{#- feature_drift: a column of a feature view drifts.  The current profile is
    fs.profile over the served history's last current_window (before its newest
    event time); the reference is either the reference_window just before it
    (an interval) or the stored profile of a training set built from the view
    (training_set: the training set model's name, training_set_version: default
    the latest).  Fails with one row per drifted metric among `metrics`
    (fs.drift: psi, ks_statistic, ks_p_value, jensen_shannon, wasserstein_norm;
    text: psi, jensen_shannon, l_infinity, chi_square_p_value), thresholds as fs.drift's. -#}
{% test feature_drift(model, column_name, current_window='7 days', reference_window=none, training_set=none,
                      training_set_version=none, metrics=['psi']) %}
  {%- if execute -%}
    {%- set v = feature_store._tested_view(model) -%}
  {%- else -%}
    {%- set v = {'view': '', 'version': 0, 'history': model, 'ts': 'ts', 'key': 'key'} -%}
  {%- endif -%}
  {%- if (training_set is none) == (reference_window is none) -%}
    {{ exceptions.raise_compiler_error("feature_drift on " ~ model ~ "." ~ column_name
        ~ ": give either reference_window (an interval) or training_set (a training set model)") }}
  {%- endif -%}
  {%- if training_set is not none -%}{%- do ref(training_set) -%}{%- endif -%}
  {%- set ts = adapter.quote(v.ts) -%}
  {%- set key = adapter.quote(v.key) -%}
  {%- set col = adapter.quote(column_name) -%}
  with served as (
    -- the history is bitemporal: the newest created row of each key and event time
    select distinct on (h.{{ key }}, h.{{ ts }}) h.{{ ts }} as ts, h.{{ col }} as value
      from {{ v.history }} h
     order by h.{{ key }}, h.{{ ts }}, h.fs_created_at desc
  ), bounds as (
    select pg_catalog.max(ts) as newest from served
  ), cur as (
    select fs.profile(s.value) as p
      from served s, bounds b
     where s.ts > b.newest - {{ feature_store.lit(current_window) }}::interval
  ), ref as (
  {%- if training_set is not none %}
    select fs.training_set_profile({{ feature_store.lit(feature_store.training_set_name(training_set)) }},
                                   {{ 'null' if training_set_version is none else training_set_version | int }},
                                   {{ feature_store.lit(v.view ~ ':' ~ column_name) }}) as p
  {%- else %}
    select fs.profile(s.value) as p
      from served s, bounds b
     where s.ts <= b.newest - {{ feature_store.lit(current_window) }}::interval
       and s.ts > b.newest - {{ feature_store.lit(current_window) }}::interval
                            - {{ feature_store.lit(reference_window) }}::interval
  {%- endif %}
  )
  select {{ feature_store.lit(v.view) }} as feature_view, {{ v.version }} as version,
         {{ feature_store.lit(column_name) }} as feature, d.metric, d.value, d.threshold
    from ref, cur, fs.drift(ref.p, cur.p) d
   where d.drifted and d.metric = any ({{ feature_store.text_array(metrics) }})
{% endtest %}

{#- feature_freshness: the serving version of the model's feature view is
    fresh: not breaching its expected freshness (fs.feature_freshness.breach,
    for scheduled views) and, with max_lag, last materialized successfully
    within that interval. -#}
{% test feature_freshness(model, max_lag=none) %}
  {%- if execute -%}
    {%- set v = feature_store._tested_view(model) -%}
  {%- else -%}
    {%- set v = {'view': '', 'version': 0} -%}
  {%- endif -%}
  select f.view, f.version, f.last_success_at, f.lag, f.expected_freshness, f.breach
    from fs.feature_freshness f
   where f.view = {{ feature_store.lit(v.view) }} and f.version = {{ v.version }}
     and (f.breach
  {%- if max_lag is not none %}
          or f.last_success_at is null or f.lag > {{ feature_store.lit(max_lag) }}::interval
  {%- endif %})
{% endtest %}

{#- feature_expectations: the latest result of every expectation of the
    serving version of the model's feature view passed (fs.expectation_results:
    run_id, view_name, version, expectation, rows_checked, rows_failing,
    observed, passed, ...).  Fails with the failing ones. -#}
{% test feature_expectations(model) %}
  {%- if execute -%}
    {%- set v = feature_store._tested_view(model) -%}
    {%- if not run_query("select pg_catalog.to_regclass('fs.expectation_results') is not null").columns[0].values()[0] -%}
      {{ exceptions.raise_compiler_error("feature_expectations: this feature_store has no fs.expectation_results (0.4 or later)") }}
    {%- endif -%}
  {%- else -%}
    {%- set v = {'view': '', 'version': 0} -%}
  {%- endif -%}
  select latest.*
    from (select distinct on (r.expectation) r.*
            from fs.expectation_results r
           where r.view_name = {{ feature_store.lit(v.view) }} and r.version = {{ v.version }}
           order by r.expectation, r.evaluated_at desc, r.result_id desc) latest
   where not latest.passed
{% endtest %}
