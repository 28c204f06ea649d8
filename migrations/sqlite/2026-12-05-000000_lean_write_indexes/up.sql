-- The PostgreSQL twin also drops the UNIQUE constraints on sessions.seq and events.id. In SQLite
-- they are part of the table definitions, and dropping them means rebuilding both tables: they
-- stay here.
-- events_by_age: the purge walks the primary key instead (positions follow commit time).
DROP INDEX events_by_age;
