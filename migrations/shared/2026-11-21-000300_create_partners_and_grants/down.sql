DROP TABLE partner_grants;
DROP TABLE partners;
