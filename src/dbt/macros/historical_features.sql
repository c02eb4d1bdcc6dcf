{#- Point-in-time retrieval from dbt models.

    features: references written with the feature view's MODEL name,
    'model:feature', 'model:*' or 'model@N:feature'.  Each model is ref()'d, so
    dbt runs the feature views first and its lineage shows them; the name is
    mapped to the target's feature view (naming.sql), and a reference without
    @N is pinned to the version serving when the model is compiled: the
    compiled SQL names every version it reads (a header comment and the
    fs_data.<view>_vN relations).  external_features: references to feature
    views that no model of the project builds, used as written (also pinned). -#}

{#- Parses the references and ref()s their models (at parse time too, which
    is when dbt records the dependencies).  Returns [{model, view, version, feature}]. -#}
{% macro _feature_entries(features, external_features) -%}
  {%- set entries = [] -%}
  {%- for f in features -%}
    {%- if f is not string or ':' not in f -%}
      {{ exceptions.raise_compiler_error("feature_store: bad feature reference " ~ f ~ ": write 'model:feature', 'model:*' or 'model@N:feature'") }}
    {%- endif -%}
    {%- set head, feature = f.split(':', 1) -%}
    {%- set parts = head.split('@', 1) -%}
    {%- set model_name = parts[0] -%}
    {%- do ref(model_name) -%}
    {%- do entries.append({'model': model_name, 'view': none, 'version': (parts[1] | int) if parts | length > 1 else none,
                           'feature': feature}) -%}
  {%- endfor -%}
  {%- for f in external_features -%}
    {%- set head, feature = f.split(':', 1) -%}
    {%- set parts = head.split('@', 1) -%}
    {%- do entries.append({'model': none, 'view': parts[0], 'version': (parts[1] | int) if parts | length > 1 else none,
                           'feature': feature}) -%}
  {%- endfor -%}
  {{ return(entries) }}
{%- endmacro %}

{#- At execution: maps models to this target's feature views and pins every
    reference without a version to the version serving now.  Returns
    {'refs': ['view@N:feature', ...], 'missing': [views without a serving version]}. -#}
{% macro _pin_features(entries) -%}
  {%- set views = [] -%}
  {%- for e in entries -%}
    {%- if e.model is not none -%}{%- do e.update({'view': feature_store.feature_view_name(e.model)}) -%}{%- endif -%}
    {%- if e.view not in views -%}{%- do views.append(e.view) -%}{%- endif -%}
  {%- endfor -%}
  {%- set serving = {} -%}
  {%- if feature_store.extension_installed() -%}
    {%- set q -%}
      select u.name, (select f.version from fs.feature_views f where f.name = u.name and f.serving)
        from pg_catalog.unnest({{ feature_store.text_array(views) }}) as u(name)
    {%- endset -%}
    {%- for row in run_query(q).rows -%}
      {%- if row[1] is not none -%}{%- do serving.update({row[0]: row[1]}) -%}{%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {%- set refs = [] -%}
  {%- set missing = [] -%}
  {%- for e in entries -%}
    {%- set version = e.version if e.version is not none else serving.get(e.view) -%}
    {%- if version is none -%}
      {%- if e.view not in missing -%}{%- do missing.append(e.view) -%}{%- endif -%}
    {%- else -%}
      {%- do refs.append(e.view ~ '@' ~ version ~ ':' ~ e.feature) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return({'refs': refs, 'missing': missing}) }}
{%- endmacro %}

{#- What to do when a feature view has no serving version: `dbt compile`,
    `dbt parse` and docs render a placeholder (an empty database compiles);
    a run or build fails, naming the views. -#}
{% macro _missing_views(missing, placeholder) -%}
  {%- if flags.WHICH in ('run', 'build', 'test', 'run-operation') -%}
    {{ exceptions.raise_compiler_error("feature_store: feature views without a materialized version in target '"
        ~ target.name ~ "': " ~ missing | join(', ') ~ ". Run their models first (dbt run -s +" ~ model.name ~ ").") }}
  {%- endif -%}
  {{ return("/* feature_store: not registered yet in target '" ~ target.name ~ "': " ~ missing | join(', ')
            ~ "; this SQL is a placeholder until they are */\n" ~ placeholder) }}
{%- endmacro %}

{% macro _pin_comment(refs) -%}
  {{ return("/* feature_store: features pinned at compile time: " ~ refs | join(', ') ~ " */\n") }}
{%- endmacro %}

{#- The retrieval SQL (fs.historical_features) with pinned versions, for a
    table or view model: spine columns, then one view__feature column per feature. -#}
{% macro historical_features(spine, features, key_column, ts_column, strict=true, known_at=false, time_zone=none,
                             external_features=[]) -%}
  {%- set entries = feature_store._feature_entries(features, external_features) -%}
  {%- if not execute -%}
    {{ return('select * from ' ~ spine) }}
  {%- endif -%}
  {%- set pinned = feature_store._pin_features(entries) -%}
  {%- if pinned.missing -%}
    {{ return(feature_store._missing_views(pinned.missing, 'select * from ' ~ spine)) }}
  {%- endif -%}
  {%- set q -%}
    select fs.historical_features({{ feature_store.lit(spine | string) }},
      {{ feature_store.text_array(pinned.refs) }}::fs.feature_ref[],
      {{ feature_store.lit(key_column) }}, {{ feature_store.lit(ts_column) }},
      strict => {{ 'true' if strict else 'false' }}, known_at => {{ 'true' if known_at else 'false' }},
      time_zone => {{ feature_store.lit(time_zone) }})
  {%- endset -%}
  {{ return(feature_store._pin_comment(pinned.refs) ~ run_query(q).columns[0].values()[0]) }}
{%- endmacro %}

{#- The body of a materialized='training_set' model: the fs.create_training_set
    call that builds a new version of the target's training set (named after the
    model, or config training_set_name), with pinned versions. -#}
{% macro training_set(spine, features, key_column, ts_column, strict=true, known_at=false, time_zone=none,
                      split=none, description=none, compression_level=none, external_features=[]) -%}
  {%- set entries = feature_store._feature_entries(features, external_features) -%}
  {%- set placeholder = 'select null::int as version' -%}
  {%- if not execute -%}
    {{ return(placeholder) }}
  {%- endif -%}
  {%- set pinned = feature_store._pin_features(entries) -%}
  {%- if pinned.missing -%}
    {{ return(feature_store._missing_views(pinned.missing, placeholder)) }}
  {%- endif -%}
  {%- set call -%}
    select fs.create_training_set(
      name => {{ feature_store.lit(feature_store.training_set_name(model)) }},
      spine => {{ feature_store.lit(spine | string) }},
      features => {{ feature_store.text_array(pinned.refs) }}::fs.feature_ref[],
      key_column => {{ feature_store.lit(key_column) }},
      ts_column => {{ feature_store.lit(ts_column) }},
      strict => {{ 'true' if strict else 'false' }},
      known_at => {{ 'true' if known_at else 'false' }},
      time_zone => {{ feature_store.lit(time_zone) }},
      split => {{ feature_store.lit(none if split is none else tojson(split)) }}::jsonb,
      description => {{ feature_store.lit(description or model.description or none) }},
      compression_level => {{ 'null' if compression_level is none else compression_level | int }}) as version
  {%- endset -%}
  {{ return(feature_store._pin_comment(pinned.refs) ~ call) }}
{%- endmacro %}
