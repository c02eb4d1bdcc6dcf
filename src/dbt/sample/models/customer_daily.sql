{{ config(materialized='feature_view',
          entity='customer', entity_key_type='bigint',
          key_column='customer_id', event_time='day_end', ttl='7 days',
          expectations=[{'name': 'spend_not_negative', 'condition': 'spend_1d >= 0'},
                        {'name': 'has_rows', 'condition': 'count(*) > 0'}]) }}
-- a day's totals are known when the day ends: stamped at its end
select customer_id,
       date_trunc('day', ts) + interval '1 day' as day_end,
       sum(amount) as spend_1d,
       count(*)::int as txns_1d
  from {{ ref('transactions') }}
 group by 1, 2
