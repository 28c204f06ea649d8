DROP TABLE feed_horizons;
