//! Matrix rows for Mijn taken and its iCalendar feed: see `matrix.rs` for the columns and the rules.
//!
//! Every role but the beheerder has a task list and may make a feed
//! address. The feed needs no session: a valid address answers everyone
//! (the address is the key), an unknown one is 404 for everyone.

use aanwezig_app::Permission as P;

use crate::common::{now, TestApp};
use crate::matrix::{can, get, posts, Ctx, Expect, Row, Target, N, O, S};

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
    let tasks = can(Target::School, &[P::ReadCase], O);
    // The feed needs no session: its address is the key.
    let feed = Expect::Public([O, O, O, O, O, O, O, O]);
    let no_feed = Expect::Public([N, N, N, N, N, N, N, N]);
    let mut rows = vec![
        get("/taken",                                           tasks),
        get("/agenda/{feed}",                                   feed),
        get("/agenda/onbekend.ics",                             no_feed),
        get("/agenda/0000000000000000000000000000000000000000000000000000000000000000.ics", no_feed),
    ];
    // Making an address renews the mentor's: after the feed rows above.
    rows.extend(posts("/taken/agenda",                      NOTHING, tasks));
    rows.extend(posts("/taken/agenda/intrekken",            NOTHING, can(Target::School, &[P::ReadCase], S)));
    rows.push(get("/agenda/{feed}",                         no_feed));
    rows
}
