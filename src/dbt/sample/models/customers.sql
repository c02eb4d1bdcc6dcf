select c::bigint as customer_id,
       (array['consumer', 'smb', 'enterprise'])[1 + c % 3] as segment,
       date_trunc('day', now()) - interval '90 days' as updated_at
  from generate_series(1, 60) c
