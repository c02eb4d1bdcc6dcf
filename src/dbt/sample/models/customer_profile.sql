{{ config(materialized='feature_view', entity='customer', entity_key_type='bigint',
          key_column='customer_id', event_time='updated_at') }}
select customer_id, updated_at, segment from {{ ref('customers') }}
