//! Matrix rows for DUO meldingen and the school settings (BRIN, vestiging): see `matrix.rs` for the columns and the rules.

#![allow(unused_imports)]

use crate::common::TestApp;
use crate::matrix::{get, post, posts, put, Ctx, Row, A, F, L, N, O, S, U};

/// Extra fixtures and placeholders this area's rows need (runs after the
/// shared cases of `{own}` and `{other}` exist).
pub(crate) async fn prepare(_app: &TestApp, _ctx: &mut Ctx) {}

#[rustfmt::skip]
pub(crate) fn rows() -> Vec<Row> {
    vec![]
}
