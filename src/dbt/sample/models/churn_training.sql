{{ config(materialized='training_set') }}
{{ feature_store.training_set(spine=ref('labels'), features=['customer_daily:*', 'customer_profile:segment'],
                              key_column='customer_id', ts_column='label_ts',
                              split={'train': 0.8, 'test': 0.2}) }}
