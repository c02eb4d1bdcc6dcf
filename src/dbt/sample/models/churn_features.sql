-- point-in-time features for each label, as a plain table model
{{ feature_store.historical_features(ref('labels'), ['customer_daily:*', 'customer_profile:segment'],
                                     'customer_id', 'label_ts') }}
