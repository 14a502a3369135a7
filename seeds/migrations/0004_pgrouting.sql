-- pgRouting for truck routing over imported road networks.
CREATE EXTENSION IF NOT EXISTS pgrouting;
