-- 60 customers, 1 to 3 purchases a day over the 60 days before today; the var
-- recent_price_factor scales the last 7 days' prices (to see feature_drift fail)
select c::bigint as customer_id,
       date_trunc('day', now()) - d * interval '1 day' + h * interval '1 hour' as ts,
       ((c * 7 + d * 3 + h) % 40 + 10)::numeric
         * case when d <= 7 then {{ var('recent_price_factor', 1) | float }} else 1 end as amount
  from generate_series(1, 60) c, generate_series(1, 60) d, generate_series(9, 15, 3) h
 where h < 9 + 3 * (1 + (c + d) % 3)
