DELETE FROM change_counters WHERE name = 'events_purged';
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE events;
