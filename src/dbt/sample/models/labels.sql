-- the spine: every customer labelled weekly over the last 5 weeks
select c::bigint as customer_id,
       date_trunc('day', now()) - w * interval '7 days' + interval '12 hours' as label_ts,
       (c + w) % 7 = 0 as churned
  from generate_series(1, 60) c, generate_series(1, 5) w
