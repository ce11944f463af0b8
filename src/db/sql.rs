//! Statements written out, for what the query builder cannot say on both backends (a union of
//! limited subqueries, a minimum over two tables): the text is the same on both but for the
//! placeholders, which this writes in each dialect (`?` for SQLite, `$n` for PostgreSQL).

use chrono::NaiveDateTime;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Integer, Text, Timestamp};
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use super::DbConnection;

type Backend = <DbConnection as diesel::Connection>::Backend;

/// A value bound to a statement.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Time(NaiveDateTime),
    Int(i32),
}

/// A statement being written: its text and its values, in order.
#[derive(Debug)]
pub struct Statement {
    postgres: bool,
    text: String,
    values: Vec<Value>,
}

impl Statement {
    pub fn new(conn: &DbConnection) -> Self {
        Self {
            postgres: matches!(conn, DbConnection::Postgresql(_)),
            text: String::new(),
            values: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: Value) -> &mut Self {
        self.values.push(value);
        if self.postgres {
            self.text.push_str(&format!("${}", self.values.len()));
        } else {
            self.text.push('?');
        }
        self
    }

    fn query(self) -> BoxedSqlQuery<'static, Backend, SqlQuery> {
        let mut query = diesel::sql_query(self.text).into_boxed::<Backend>();
        for value in self.values {
            query = match value {
                Value::Text(text) => query.bind::<Text, _>(text),
                Value::Time(at) => query.bind::<Timestamp, _>(at),
                Value::Int(n) => query.bind::<Integer, _>(n),
            };
        }
        query
    }

    pub fn load<T>(self, conn: &mut DbConnection) -> QueryResult<Vec<T>>
    where
        T: QueryableByName<Backend> + 'static,
    {
        self.query().load(conn)
    }

    pub fn get_result<T>(self, conn: &mut DbConnection) -> QueryResult<T>
    where
        T: QueryableByName<Backend> + 'static,
    {
        self.query().get_result(conn)
    }
}
