DROP INDEX sessions_tombstones;
