DROP TABLE programmes;
