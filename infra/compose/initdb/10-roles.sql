-- Bianmin's roles and database (run once by the postgres image on an empty data directory;
-- on a PostgreSQL you run yourself, run it as a superuser with psql). Replace CHANGE-ME.
--   bianmin_maint  owns the tables, bypasses row-level security: migrations (`release`),
--                  `tenants apply`, backup and restore (MAINTENANCE_DATABASE_URL)
--   bianmin_app    neither owns the tables nor bypasses RLS: web, worker, scheduler
--                  (DATABASE_URL); `release` grants it what it needs
CREATE ROLE bianmin_maint LOGIN BYPASSRLS PASSWORD 'CHANGE-ME';
CREATE ROLE bianmin_app LOGIN PASSWORD 'CHANGE-ME';
-- Plans of the row-level-security queries (app/db.py asks the same per connection; through
-- PgBouncer the connection's startup settings do not reach the server: infra/SCALE-OUT.md).
ALTER ROLE bianmin_app SET plan_cache_mode = force_custom_plan;
CREATE DATABASE bianmin OWNER bianmin_maint;
\connect bianmin
ALTER SCHEMA public OWNER TO bianmin_maint;
