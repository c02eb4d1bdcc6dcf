\echo Use "CREATE EXTENSION feature_store" to load this file. \quit

COMMENT ON SCHEMA fs IS 'feature_store: entities, feature views, online and offline stores';
