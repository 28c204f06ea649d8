DROP TABLE exercises;
