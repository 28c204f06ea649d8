DROP TABLE sessions;
DROP TABLE change_counters;
