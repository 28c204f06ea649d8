DROP INDEX sessions_user_programme;
DROP TABLE assessments;
DROP TABLE programme_versions;
ALTER TABLE programmes DROP COLUMN auto_adapt;
ALTER TABLE programmes DROP COLUMN status;
ALTER TABLE programmes DROP COLUMN current_version;
