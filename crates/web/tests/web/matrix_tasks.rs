//! Matrix rows for Mijn taken and its iCalendar feed: see `matrix.rs` for the columns and the rules.
//!
//! Every role but the beheerder has a task list and may make a feed
//! address. The feed needs no session: a valid address answers everyone
//! (the address is the key), an unknown one is 404 for everyone.

#![allow(unused_imports)]

use aanwezig_storage::prelude::*;
use aanwezig_storage::Store;

use crate::common::{now, TestApp};
use crate::matrix::{get, post, posts, put, Ctx, Row, A, F, L, N, O, S, U};

/// The mentor's feed address, made straight in the store: `{feed}`.
pub(crate) async fn prepare(app: &TestApp, ctx: &mut Ctx) {
    let token = aanwezig_auth::new_token();
    app.store
        .set_feed_token("mentor", &aanwezig_auth::token_hash(&token), now())
        .await
        .unwrap();
    ctx.extra.push(("{feed}".into(), format!("{token}.ics")));
}

#[rustfmt::skip]
pub(crate) fn rows() -> Vec<Row> {
    const NOTHING: &[(&str, &str)] = &[];
    let mut rows = vec![
        // ------------------------------------------------------------------------------  anon beheer coord zorg mentor lpa arts keten
        get("/taken",                                                                   [L, F, O, O, O, O, O, O]),
        get("/agenda/{feed}",                                                           [O, O, O, O, O, O, O, O]),
        get("/agenda/onbekend.ics",                                                     [N, N, N, N, N, N, N, N]),
        get("/agenda/0000000000000000000000000000000000000000000000000000000000000000.ics", [N, N, N, N, N, N, N, N]),
    ];
    // Making an address renews the mentor's: after the feed rows above.
    rows.extend(posts("/taken/agenda",                                NOTHING,        [L, F, O, O, O, O, O, O]));
    rows.extend(posts("/taken/agenda/intrekken",                      NOTHING,        [L, F, S, S, S, S, S, S]));
    rows.push(get("/agenda/{feed}",                                                 [N, N, N, N, N, N, N, N]));
    rows
}
