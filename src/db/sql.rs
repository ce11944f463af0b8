//! Statements written out, for what the query builder cannot say on both backends (a union of
//! limited subqueries, a minimum over two tables). A statement is SQL text and values in order;
//! diesel writes each value's placeholder in the backend's dialect (`?`, `$n`). Unlike
//! `sql_query`, a statement is kept prepared per connection, keyed by its text: the values
//! are always bound, never written into the text, so the same shape of statement is parsed
//! once per connection (a front's fills were parsed on every read: bench/RESULTS.md).

use chrono::NaiveDateTime;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::sql_types::{Integer, Text, Timestamp, Untyped};
use diesel::{QueryResult, QueryableByName};

use super::DbConnection;

type Backend = <DbConnection as diesel::Connection>::Backend;

/// A value bound to a statement.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Time(NaiveDateTime),
    Int(i32),
}

#[derive(Debug, Clone)]
enum Piece {
    Sql(String),
    Value(Value),
}

/// A statement being written: its text and its values, in order.
#[derive(Debug, Clone, Default)]
pub struct Statement {
    pieces: Vec<Piece>,
}

impl Statement {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends SQL text (never a value: those are bound).
    pub fn push(&mut self, sql: &str) -> &mut Self {
        match self.pieces.last_mut() {
            Some(Piece::Sql(text)) => text.push_str(sql),
            _ => self.pieces.push(Piece::Sql(sql.to_owned())),
        }
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: Value) -> &mut Self {
        self.pieces.push(Piece::Value(value));
        self
    }

    /// Appends `column IN (ids)` with the ids bound as one value (a JSON array), so that the
    /// statement's text is the same for any number of them (diesel's `eq_any` writes one
    /// placeholder per id, and such statements are parsed anew each time).
    pub fn ids_in(&mut self, conn: &DbConnection, column: &str, ids: &[i32]) -> &mut Self {
        let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        let (open, close) = match conn {
            DbConnection::Postgresql(_) => (
                "IN (SELECT value::int4 FROM json_array_elements_text(CAST(",
                " AS json)))",
            ),
            DbConnection::Sqlite(_) => ("IN (SELECT value FROM json_each(", "))"),
        };
        self.push(column)
            .push(" ")
            .push(open)
            .bind(Value::Text(list))
            .push(close)
    }

    pub fn load<T>(self, conn: &mut DbConnection) -> QueryResult<Vec<T>>
    where
        T: QueryableByName<Backend> + 'static,
    {
        RunQueryDsl::load(self, conn)
    }

    pub fn get_result<T>(self, conn: &mut DbConnection) -> QueryResult<T>
    where
        T: QueryableByName<Backend> + 'static,
    {
        RunQueryDsl::get_result(self, conn)
    }
}

impl QueryFragment<Backend> for Statement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        for piece in &self.pieces {
            match piece {
                Piece::Sql(text) => out.push_sql(text),
                Piece::Value(Value::Text(text)) => out.push_bind_param::<Text, _>(text)?,
                Piece::Value(Value::Time(at)) => out.push_bind_param::<Timestamp, _>(at)?,
                Piece::Value(Value::Int(n)) => out.push_bind_param::<Integer, _>(n)?,
            }
        }
        Ok(())
    }
}

impl QueryId for Statement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement {
    type SqlType = Untyped;
}

impl RunQueryDsl<DbConnection> for Statement {}
