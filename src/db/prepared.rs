//! Hand-written PostgreSQL statements that are prepared once per connection.
//!
//! `diesel::sql_query` never lets a statement be cached (its text could differ per call), so
//! PostgreSQL parses and plans it on every execution: for the group insert of new sessions
//! (a CTE over 19 arrays) planning took as long as running it, about 0.2 ms of the
//! database's CPU per statement. [`Prepared`] takes a constant text, so diesel's statement
//! cache prepares it once per connection and then only binds and executes.
//!
//! Placeholders are PostgreSQL's `$1`, `$2`, …, numbered in the order of [`Prepared::bind`];
//! one may appear several times, and every bound value must appear (a statement that names a
//! value it was not given, or not one it was given, fails before it is sent). The text is not
//! parsed as SQL: keep `$` out of its string literals.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{PgConnection, QueryResult, RunQueryDsl};

/// A constant SQL text and its bind values (see the module).
pub struct Prepared<'a> {
    sql: &'static str,
    binds: Vec<Box<dyn PgBind + 'a>>,
}

/// `sql` with no values bound yet.
pub fn prepared(sql: &'static str) -> Prepared<'static> {
    Prepared {
        sql,
        binds: Vec::new(),
    }
}

impl<'a> Prepared<'a> {
    /// Binds the next placeholder (`$1` first) to `value` as SQL type `ST`.
    pub fn bind<ST, V>(self, value: V) -> Prepared<'a>
    where
        Pg: HasSqlType<ST>,
        V: ToSql<ST, Pg> + 'a,
        ST: 'a,
    {
        let mut binds = self.binds;
        binds.push(Box::new(Typed::<ST, V>(value, std::marker::PhantomData)));
        Prepared { sql: self.sql, binds }
    }
}

trait PgBind {
    fn push<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

struct Typed<ST, V>(V, std::marker::PhantomData<fn() -> ST>);

impl<ST, V> PgBind for Typed<ST, V>
where
    Pg: HasSqlType<ST>,
    V: ToSql<ST, Pg>,
{
    fn push<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<ST, V>(&self.0)
    }
}

impl QueryFragment<Pg> for Prepared<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // diesel numbers the placeholders it writes itself, so each `$n` of the text is
        // replaced by the n-th value pushed where it stands. The text is the same on every
        // call, so the generated one (the cache key) is too.
        let mut rest = self.sql;
        let mut used = vec![false; self.binds.len()];
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
            let n: usize = rest[at + 1..at + 1 + digits].parse().map_err(|_| {
                diesel::result::Error::QueryBuilderError(
                    format!("a `$` without a number in {:?}", self.sql).into(),
                )
            })?;
            let (bind, named) = n
                .checked_sub(1)
                .and_then(|i| self.binds.get(i).zip(used.get_mut(i)))
                .ok_or_else(|| {
                    diesel::result::Error::QueryBuilderError(format!("${n} has no bound value").into())
                })?;
            bind.push(out.reborrow())?;
            *named = true;
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        // A value the text never names is a miscounted statement, not something to drop.
        match used.iter().position(|u| !u) {
            Some(i) => Err(diesel::result::Error::QueryBuilderError(
                format!("${} is bound but not in the statement", i + 1).into(),
            )),
            None => Ok(()),
        }
    }
}

impl QueryId for Prepared<'_> {
    // No type of its own: diesel keys the cache by the generated text and the bind types.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for Prepared<'_> {}

#[cfg(test)]
mod tests {
    use diesel::sql_types::{BigInt, Text};

    use super::prepared;

    fn text(query: &super::Prepared<'_>) -> String {
        diesel::debug_query::<diesel::pg::Pg, _>(query).to_string()
    }

    #[test]
    fn placeholders_become_diesels_own_in_order_and_repeat() {
        let query = prepared("SELECT $1::text || $2::int8, $1 AS again")
            .bind::<Text, _>("a")
            .bind::<BigInt, _>(7_i64);
        assert_eq!(
            text(&query),
            r#"SELECT $1::text || $2::int8, $3 AS again -- binds: ["a", 7, "a"]"#
        );
    }

    fn builds(query: &super::Prepared<'_>) -> bool {
        diesel::query_builder::QueryFragment::<diesel::pg::Pg>::to_sql(
            query,
            &mut <diesel::pg::Pg as diesel::backend::Backend>::QueryBuilder::default(),
            &diesel::pg::Pg,
        )
        .is_ok()
    }

    #[test]
    fn a_placeholder_without_a_value_or_a_value_without_a_placeholder_is_an_error() {
        assert!(builds(&prepared("SELECT $1").bind::<Text, _>("a")));
        assert!(!builds(&prepared("SELECT $1, $2").bind::<Text, _>("a")));
        assert!(!builds(&prepared("SELECT $0").bind::<Text, _>("a")));
        assert!(!builds(&prepared("SELECT $ 1").bind::<Text, _>("a")));
        assert!(!builds(
            &prepared("SELECT $2").bind::<Text, _>("a").bind::<Text, _>("b")
        ));
    }
}
